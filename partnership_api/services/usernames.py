"""Usernames: the rule a new one must match, and refusing look-alikes (issue 25, point 6).

The rule is matched against the *whole* name (a ``$`` also matches before a trailing newline:
``"police.officer\\n"`` once passed). A new name is refused when it differs from an existing
one only by case, spaces, invisible characters or characters that look alike: both are reduced
to a *skeleton* (Unicode NFKC, case folded, spaces and format characters dropped, then the
look-alikes of Unicode's TR39 confusables that a username's characters allow mapped to one:
``0``/``o``, ``1``/``i``/``l``/``|``, ``5``/``s``, ``rn``/``m``, ``vv``/``w``, and the
separators ``.``/``_``/``-``) and no two users' skeletons may be equal.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa

from partnership_api.database import db
from partnership_api.models.partnership import USERNAME_PATTERN, User

RULE = re.compile(USERNAME_PATTERN)

_SEQUENCES = (("rn", "m"), ("vv", "w"))
_SINGLE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "_": ".", "-": "."})


def follows_the_rule(name: str) -> bool:
    """The whole name matches the rule (no trailing newline slips past ``$``)."""
    return RULE.fullmatch(name) is not None


def skeleton(name: str) -> str:
    """What a name looks like: equal skeletons are names a reader could take for each other."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(
        ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc")
    )
    for sequence, looks_like in _SEQUENCES:
        kept = kept.replace(sequence, looks_like)
    return kept.translate(_SINGLE)


def unusable(name: str) -> bool:
    """True when ``name`` breaks the rule, is taken, or looks like a name that is taken."""
    if not follows_the_rule(name):
        return True
    wanted = skeleton(name)
    # Every name is read: a partnership has hundreds of users, and a name is made rarely.
    taken = db.session.scalars(sa.select(User.username))
    return any(skeleton(existing) == wanted for existing in taken)
