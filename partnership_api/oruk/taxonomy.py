"""The directory's own small taxonomy of domestic-abuse services.

It is fixed in code (its ids are stable UUIDs, the same on every server and in every
database); services are linked to terms by code (``service_taxonomy_terms``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

TAXONOMY_ID = uuid.UUID("4f2ac502-772f-4f2f-bf10-2e6f0a953568")
TAXONOMY_NAME = "Staffordshire and Stoke-on-Trent domestic abuse services"
TAXONOMY_DESCRIPTION = (
    "The kinds of service the county's domestic-abuse partnership offers to people experiencing "
    "domestic abuse, to their children, and to people who want to change abusive behaviour."
)
TAXONOMY_VERSION = "1"


@dataclass(frozen=True)
class Term:
    id: uuid.UUID
    code: str
    name: str
    description: str


TERMS: tuple[Term, ...] = (
    Term(
        uuid.UUID("4d5bf25e-d062-4809-9321-bf81a2769267"),
        "refuge",
        "Refuge",
        "Safe accommodation and support for people escaping domestic abuse, and their "
        "children. A refuge's address is never published: call the service.",
    ),
    Term(
        uuid.UUID("77413765-db03-45cf-8597-dcb42058970d"),
        "outreach",
        "Outreach",
        "Support in the community for people experiencing domestic abuse who are not in refuge.",
    ),
    Term(
        uuid.UUID("71568be1-b320-41ad-84be-7bc89b68b6dc"),
        "helpline",
        "Helpline",
        "Advice and support by telephone or live chat.",
    ),
    Term(
        uuid.UUID("10d55cb9-7acb-41b3-9b2f-fd34d9bd862c"),
        "idva",
        "Independent domestic violence advocate (IDVA)",
        "Specialist advocacy for victims at high risk of serious harm, including at MARAC.",
    ),
    Term(
        uuid.UUID("0418dc18-d236-43df-a416-8bbe14432a43"),
        "perpetrator_programme",
        "Perpetrator programme",
        "Behaviour-change programmes for people who have been abusive.",
    ),
    Term(
        uuid.UUID("66b8e55d-0bcb-47a0-b994-abe6486c3a69"),
        "children_young_people",
        "Children and young people",
        "Support for children and young people affected by domestic abuse.",
    ),
    Term(
        uuid.UUID("c5fdf4d0-1281-4bea-9b3d-09f52f9e0e75"),
        "stalking",
        "Stalking",
        "Support and advocacy for victims of stalking.",
    ),
)

TERM_CODES = tuple(term.code for term in TERMS)
BY_CODE = {term.code: term for term in TERMS}
BY_ID = {term.id: term for term in TERMS}
