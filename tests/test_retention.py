"""Retention, told by the partnership's daily job: finished referrals lose their personal data
after REFERRAL_RETENTION_DAYS; open ones are never touched; the figures do not change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import GLOW_REFUGE, NEW_ERA_SUPPORT, add_referrals

SIX_YEARS = timedelta(days=2190)
CLOSED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def caseload(db_session, ids):
    """Referrals made in late 2026, some finished, some still open, each with a timeline note."""
    from partnership_api.models.referrals import ReferralEvent

    made = {}
    created = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    for status, count, extra in (
        ("closed", 3, dict(outcome="Moved to a refuge out of county with her children.")),
        ("declined", 2, dict(decline_reason="no_capacity", to=GLOW_REFUGE)),
        ("withdrawn", 1, dict(risk_level="medium")),
        ("redirected", 1, dict(to=NEW_ERA_SUPPORT, risk_level="standard")),
        ("submitted", 2, {}),
        ("accepted", 2, dict(to=GLOW_REFUGE)),
    ):
        made[status] = add_referrals(
            db_session,
            ids,
            (count, dict(status=status, created_at=created, status_changed_at=CLOSED_AT, **extra)),
        )
    for referral_id in (rid for group in made.values() for rid in group):
        db_session.add(
            ReferralEvent(
                referral_id=referral_id,
                at=created,
                kind="note",
                note="Called her at the safe time; she is staying with her sister in Leek.",
            )
        )
    db_session.commit()
    return made


def snapshot(db_session, referral_ids):
    from partnership_api.models.referrals import Referral, ReferralEvent

    db_session.expire_all()
    rows = db_session.scalars(sa.select(Referral).where(Referral.id.in_(referral_ids))).all()
    notes = dict(
        db_session.execute(
            sa.select(ReferralEvent.referral_id, ReferralEvent.note).where(
                ReferralEvent.referral_id.in_(referral_ids)
            )
        ).all()
    )
    return {r.id: (r, notes[r.id]) for r in rows}


def all_the_figures(client, login):
    analyst = login("opcc.analyst")
    response = client.get(
        "/api/v1/stats/referrals",
        query_string={
            "group_by": ["month", "kind", "risk_level", "status", "to_organisation", "area"]
        },
        headers=analyst,
    )
    assert response.status_code == 200
    by_status = client.get(
        "/api/v1/stats/referrals", query_string={"group_by": "status"}, headers=analyst
    )
    return response.get_json(), by_status.get_json()


def test_finished_referrals_are_pseudonymised_when_the_clock_passes_six_years(
    app, client, login, db_session, caseload
):
    from partnership_api.services.retention import purge_expired

    figures_before = all_the_figures(client, login)
    # A day short of six years after they were finished: nothing is due yet.
    assert purge_expired(now=CLOSED_AT + SIX_YEARS - timedelta(days=1)) == 0
    later = CLOSED_AT + SIX_YEARS + timedelta(days=1)
    assert purge_expired(now=later) == 7

    finished = [
        rid for s in ("closed", "declined", "withdrawn", "redirected") for rid in caseload[s]
    ]
    for referral, note in snapshot(db_session, finished).values():
        assert referral.pseudonymised_at == later
        assert referral.subject == {"area": "E07000197"}
        assert referral.safe_contact == {} and referral.household == {} and referral.needs == {}
        assert referral.consent == {"given": True, "lawful_basis": "consent"}
        assert referral.summary is None and referral.outcome is None
        assert note is None
        # What the figures and the record of what happened need stays.
        assert referral.kind == "victim" and referral.subject_area == "E07000197"
        assert referral.created_at == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
        assert referral.status_changed_at == CLOSED_AT
        assert referral.dash_score == 15 and referral.marac is True
    declined = snapshot(db_session, caseload["declined"])
    assert {r.decline_reason for r, _ in declined.values()} == {"no_capacity"}

    assert all_the_figures(client, login) == figures_before


def test_open_referrals_are_never_touched_however_old(app, db_session, caseload):
    from partnership_api.services.retention import purge_expired

    open_ids = caseload["submitted"] + caseload["accepted"]
    purge_expired(now=CLOSED_AT + 3 * SIX_YEARS)
    for referral, note in snapshot(db_session, open_ids).values():
        assert referral.pseudonymised_at is None
        assert referral.subject["name"] == "Jane Example"
        assert referral.safe_contact["phone"] == "07700 900123"
        assert referral.consent["rationale"] == "Agreed at the scene."
        assert referral.summary.startswith("Ex-partner")
        assert note.startswith("Called her")


def test_the_daily_command_is_idempotent_and_audited(app, db_session, caseload):
    from partnership_api.models.audit import AuditEvent
    from partnership_api.models.referrals import Referral

    # The clock is moved forward by putting the finished referrals seven years in the past.
    long_ago = datetime.now(UTC) - timedelta(days=7 * 365)
    db_session.execute(
        sa.update(Referral)
        .where(Referral.status.in_(("closed", "declined", "withdrawn", "redirected")))
        .values(status_changed_at=long_ago)
    )
    db_session.execute(
        sa.update(Referral).where(Referral.status == "accepted").values(status_changed_at=long_ago)
    )
    db_session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["purge-expired"])
    assert first.exit_code == 0, first.output
    assert "Pseudonymised 7 referrals" in first.output
    second = runner.invoke(args=["purge-expired"])
    assert second.exit_code == 0 and "Pseudonymised 0 referrals" in second.output

    db_session.expire_all()
    events = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "retention.purge").order_by(AuditEvent.id)
    ).all()
    assert [e.details["count"] for e in events] == [7, 0]
    assert all(e.details["retention_days"] == 2190 for e in events)
    assert "Jane" not in str([e.details for e in events])
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_shorter_retention_setting_is_honoured(app, db_session, caseload):
    from partnership_api.services.retention import purge_expired

    assert purge_expired(now=CLOSED_AT + timedelta(days=31), retention_days=30) == 7
    assert purge_expired(now=CLOSED_AT + timedelta(days=31), retention_days=30) == 0
