"""`make bench`'s timing of the safe-accommodation return (issue 26): the whole return of a
financial year computed by the service the API calls, as the commissioner's analyst, on the
bench database at its current size. Run by ``bench.run`` as ``python -m
bench.safe_accommodation YEAR`` with the app's environment; prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid

import sqlalchemy as sa

ROUNDS = 3


def main(year: int) -> dict:
    from partnership_api import create_app
    from partnership_api.actors import Actor
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Organisation, User
    from partnership_api.services.safe_accommodation_return import (
        safe_accommodation_return,
        year_bounds,
    )

    app = create_app()
    with app.app_context():
        analyst = db.session.scalar(sa.select(User).where(User.username == "opcc.analyst"))
        org = db.session.get(Organisation, analyst.organisation_id)
        actor = Actor(
            user_id=analyst.id,
            username=analyst.username,
            org_id=org.id,
            org_kind=org.kind,
            org_name=org.name,
            role=analyst.role,
            partnership_admin=False,
            session_id=uuid.uuid4(),
        )
        start, end = year_bounds(year)
        in_year = db.session.execute(
            sa.text("SELECT count(*) FROM referrals WHERE created_at >= :s AND created_at < :e"),
            {"s": start, "e": end},
        ).scalar()
        total = db.session.execute(sa.text("SELECT count(*) FROM referrals")).scalar()
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            answer = safe_accommodation_return(actor, year)
            timings.append(time.perf_counter() - started)
            db.session.remove()
        return {
            "year": answer["financial_year"],
            "referrals_in_database": total,
            "referrals_in_year": in_year,
            "median_ms": round(statistics.median(timings) * 1000, 1),
            "max_ms": round(max(timings) * 1000, 1),
            "rounds": ROUNDS,
        }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
