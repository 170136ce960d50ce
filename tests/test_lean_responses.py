"""The hot read paths answer without a marshmallow pass: their JSON must be exactly what the
documented schema would dump, field for field."""

from __future__ import annotations

import json
import uuid

from tests.factories import REFERRALS_URL, SWA_REFUGE, make_referral, victim_referral


def test_a_referral_read_and_list_equal_the_schema_dump(app, client, login, ids):
    from partnership_api.extensions import db
    from partnership_api.models.referrals import Referral
    from partnership_api.schemas.referrals import ReferralSchema
    from partnership_api.services import referral_reads

    police = login("police.officer")
    made = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    held = client.post(
        f"{REFERRALS_URL}/{made['id']}/hold",
        json={"refuge_id": ids.service[SWA_REFUGE], "space_type": "family"},
        headers=police,
    )
    assert held.status_code == 201

    single = client.get(f"{REFERRALS_URL}/{made['id']}", headers=police)
    listed = client.get(REFERRALS_URL, headers=police)
    assert single.status_code == listed.status_code == 200
    assert single.mimetype == listed.mimetype == "application/json"
    assert "X-Pagination" in listed.headers
    with app.app_context():
        referral = db.session.get(Referral, uuid.UUID(made["id"]))
        # The one reader's answer, as the schema dumps it, against the ORM's own row.
        raw = referral_reads.shown(referral.id)
        dumped = ReferralSchema().dump(raw)
        orm = ReferralSchema().dump(
            {
                **{c.key: getattr(referral, c.key) for c in Referral.__table__.columns},
                "safe_contact": {
                    **referral.safe_contact,
                    "do_not_contact": referral.do_not_contact,
                },
                "redirected_to": referral.redirected_to_id,
                "redirected_from": referral.redirected_from_id,
                "overdue": raw["overdue"],
                "hold": raw["hold"],
                # Derived from columns (safe accommodation, issue 26): none yet on a new one.
                "not_supported": None,
                "out_of_area": None,
            }
        )
        db.session.remove()
    assert dumped == orm
    assert json.loads(single.data) == dumped
    assert json.loads(listed.data) == [dumped]
    assert dumped["hold"] is not None and dumped["safe_contact"]["phone"]


def test_an_availability_report_answers_exactly_the_schema_dump(client, login, ids):
    """The report's answer is built by hand; reading it back goes through the schema."""
    staff = login("swa.staff")
    url = f"/api/v1/refuges/{ids.service[SWA_REFUGE]}/availability"
    read = client.get(url, headers=staff)
    report = {"spaces": [{"space_type": "family", "total": 3, "vacant": 2}]}
    answer = client.put(url, json=report, headers={**staff, "If-Match": read.headers["ETag"]})
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["ETag"] != read.headers["ETag"]
    again = client.get(url, headers=staff)
    assert again.headers["ETag"] == answer.headers["ETag"]
    assert json.loads(answer.data) == json.loads(again.data)
