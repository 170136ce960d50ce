"""Migration 0009 (safe accommodation) on a database in 0006's form, with referrals of every
status: each stays valid, its old decline code kept and mapped onto the return's list, a
withdrawn one coded as a lapse, an admitted refuge referral a stay, a redirect's onward
referral in the household of the one it came from; and the way back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.dblib import app_on_empty_database

BEFORE = "0006_event_organisations_no_fk"
NOW = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def _value(column: sa.Column, postgres: bool):
    kind = type(column.type).__name__.lower()
    if "bool" in kind:
        return False
    if "json" in kind:
        return {}
    if "int" in kind:
        return 0
    if "date" in kind or "time" in kind:
        return NOW if postgres else NOW.replace(tzinfo=None)
    if "uuid" in kind:
        return uuid.uuid4() if postgres else uuid.uuid4().hex
    length = getattr(column.type, "length", None) or 32
    return uuid.uuid4().hex[:length]


def insert(conn, table: str, postgres: bool, **values) -> None:
    """A row in the table as 0006 made it: every required column given a value."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = {}
    for column in reflected.columns:
        if column.name in values:
            row[column.name] = values[column.name]
        elif (
            not column.nullable
            and column.server_default is None
            and not (
                column.primary_key
                and column.autoincrement is not False
                and "int" in str(column.type).lower()
            )
        ):
            row[column.name] = _value(column, postgres)
    conn.execute(reflected.insert().values(**row))


@pytest.mark.no_demo
def test_every_existing_referral_stays_valid(tmp_path):
    from flask_migrate import downgrade, upgrade

    from partnership_api.extensions import db

    with app_on_empty_database(tmp_path, "m0009") as app, app.app_context():
        upgrade(revision=BEFORE)
        postgres = db.engine.dialect.name == "postgresql"

        def uid(value: uuid.UUID):
            return value if postgres else value.hex

        def moment(value: datetime):
            return value if postgres else value.replace(tzinfo=None)

        referrals: dict[str, uuid.UUID] = {}
        with db.engine.begin() as conn:
            insert(conn, "organisations", postgres, id=1, name="Police", kind="police", areas=[])
            insert(conn, "organisations", postgres, id=2, name="Refuge", kind="provider", areas=[])
            insert(
                conn,
                "services",
                postgres,
                id=10,
                organisation_id=2,
                name="A refuge",
                kind="refuge",
                facilities={},
                active=True,
            )
            insert(
                conn,
                "services",
                postgres,
                id=11,
                organisation_id=2,
                name="Support",
                kind="victim_support",
                facilities={},
                active=True,
            )
            conn.execute(
                sa.text("INSERT INTO service_areas (service_id, gss_code) VALUES (10, 'E06000021')")
            )

            def referral(
                name, status, service=10, decline_reason=None, redirected_from=None, children=0
            ):
                rid = uuid.uuid4()
                referrals[name] = rid
                insert(
                    conn,
                    "referrals",
                    postgres,
                    id=uid(rid),
                    reference=f"REF-2025-{len(referrals):08d}",
                    kind="victim",
                    status=status,
                    version=1,
                    from_organisation_id=1,
                    to_service_id=service,
                    to_organisation_id=2,
                    risk_level="high",
                    subject_area="E07000197",
                    subject={"name": "Jane", "area": "E07000197"},
                    household={"children": children, "child_ages": []},
                    decline_reason=decline_reason,
                    redirected_from_id=uid(redirected_from) if redirected_from else None,
                    created_at=moment(NOW),
                    updated_at=moment(NOW),
                    status_changed_at=moment(NOW + timedelta(days=30)),
                    response_due_at=moment(NOW + timedelta(days=1)),
                )
                return rid

            for code in (
                "no_capacity",
                "not_eligible",
                "outside_area",
                "declined_by_person",
                "unable_to_contact",
                "other",
            ):
                referral(f"declined_{code}", "declined", decline_reason=code)
            referral("withdrawn", "withdrawn")
            referral("submitted", "submitted")
            admitted = referral("accepted", "accepted", children=2)
            insert(
                conn,
                "referral_events",
                postgres,
                referral_id=uid(admitted),
                kind="accepted",
                at=moment(NOW + timedelta(days=2)),
            )
            referral("closed", "closed", children=1)
            referral("support_accepted", "accepted", service=11)
            first = referral("redirected", "redirected")
            second = referral("onward", "redirected", redirected_from=first)
            referral(
                "onward_again", "declined", decline_reason="no_capacity", redirected_from=second
            )

        upgrade()
        from partnership_api.models.referrals import Referral
        from partnership_api.models.safe_accommodation import Stay
        from partnership_api.schemas.referrals import ReferralSchema
        from partnership_api.services import referral_reads

        found = {r.id: r for r in db.session.scalars(sa.select(Referral))}
        assert len(found) == len(referrals)
        for rid in referrals.values():
            ReferralSchema().dump(referral_reads.shown(rid))  # each reads as the API shows it
        expected = {
            "declined_no_capacity": ("no_capacity", None),
            "declined_not_eligible": ("other", "not eligible"),
            "declined_outside_area": ("other", "outside the service's area"),
            "declined_declined_by_person": ("declined_offer", None),
            "declined_unable_to_contact": ("other", "unable to contact"),
            "declined_other": ("other", "not given"),
            "withdrawn": ("other", "withdrawn by the referrer"),
            "submitted": (None, None),
            "accepted": (None, None),
        }
        for name, (reason, text) in expected.items():
            r = found[referrals[name]]
            assert (r.not_supported_reason, r.not_supported_text) == (reason, text), name
            assert r.fleeing_from == "E07000197"
        assert found[referrals["declined_other"]].decline_reason == "other"  # kept as it was
        chain = {found[referrals[n]].household_id for n in ("redirected", "onward", "onward_again")}
        assert chain == {referrals["redirected"]}
        assert found[referrals["submitted"]].household_id == referrals["submitted"]

        stays = {s.referral_id: s for s in db.session.scalars(sa.select(Stay))}
        assert set(stays) == {referrals["accepted"], referrals["closed"]}  # refuge ones only
        open_stay, ended = stays[referrals["accepted"]], stays[referrals["closed"]]
        assert open_stay.admitted_at == NOW + timedelta(days=2) and open_stay.ended_at is None
        assert (open_stay.children, open_stay.placement_area, open_stay.adults) == (
            2,
            "E06000021",
            [],
        )
        assert (ended.end_reason, ended.destination, ended.ended_at) == (
            "other",
            "unknown",
            NOW + timedelta(days=30),
        )
        assert found[referrals["accepted"]].placement_area == "E06000021"
        db.session.remove()

        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM referrals")).scalar() == len(
                referrals
            )
            columns = {c["name"] for c in sa.inspect(conn).get_columns("referrals")}
            assert "household_id" not in columns and "decline_reason" in columns
            assert not sa.inspect(conn).has_table("stays")
        upgrade()
