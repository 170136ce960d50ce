"""Who is acting: the signed-in caller, as the sign-in hook loaded them for this request.

Services and the policy take an ``Actor``; the API makes one per request (``auth.py``), and the
worker or a CLI command can make one for whoever they act for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

WORKER_ROLES = ("staff", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in caller, as loaded from the database for this request."""

    user_id: uuid.UUID
    username: str
    org_id: int
    org_kind: str
    org_name: str
    role: str
    partnership_admin: bool
    session_id: uuid.UUID

    @property
    def is_worker(self) -> bool:
        return self.role in WORKER_ROLES

    @property
    def is_commissioner(self) -> bool:
        return self.org_kind == "commissioner"
