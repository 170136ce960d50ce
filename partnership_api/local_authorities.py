"""Every English local authority district (lower-tier and unitary), by ONS GSS code, with names.

Reference data shipped in the repository (``reference/english_local_authorities.json``: its
source, date and notes are in the file). A referral's ``fleeing_from`` and a stay's placement
authority may be any current English district, inside the county or not; the file also keeps
superseded codes, with their names, for older records.
"""

from __future__ import annotations

import json
from pathlib import Path

_FILE = Path(__file__).resolve().parent / "reference" / "english_local_authorities.json"
_DOCUMENT = json.loads(_FILE.read_text(encoding="utf-8"))

SOURCE: str = _DOCUMENT["source"]
AS_AT: str = _DOCUMENT["as_at"]
# Code → name of every current district (296 in 2026).
CURRENT: dict[str, str] = {
    row["code"]: row["name"] for row in _DOCUMENT["authorities"] if row["current"]
}
