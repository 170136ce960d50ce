"""Look-alike usernames, told by the admin who makes one and the attacker who uses it
(issue 25, point 6).

The username rule ended in ``$``, which also matches before a trailing newline:
``"police.officer\\n"`` was created, signed in, and showed as "police.officer"; the sign-in lock
stripped it, so the look-alike's success cleared the real name's failure count. Now the rule is
a full match, the lock is keyed by the exact name typed, and a name that differs from an
existing one only by case, spaces or confusable characters is refused.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.partnership import User
from tests.conftest import DEMO_PASSWORD

LOGIN = "/api/v1/auth/login"
PASSWORD = "a-long-enough-password"


def new_user(client, headers, username: str):
    return client.post(
        "/api/v1/users",
        json={"username": username, "role": "staff", "password": PASSWORD},
        headers=headers,
    )


def attempt(client, username: str, password: str, address: str = "198.51.100.61"):
    return client.post(
        LOGIN,
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.mark.parametrize(
    "look_alike",
    [
        "police.officer\n",  # a trailing newline: `$` matched before it
        "police.officer\r\n",
        "Police.Officer",  # case
        "police.officer ",  # spaces
        " police.officer",
        "police. officer",
        "police.0fficer",  # zero for o
        "po1ice.officer",  # one for l
        "poiice.officer",  # i for l
        "police_officer",  # another separator
        "police-officer",
        "police.offlcer",
        "pollce.offlcer",
        "police.officer\u200b",  # an invisible character
        "p\u043elice.officer",  # Cyrillic o
    ],
)
def test_an_admin_cannot_make_a_look_alike_of_an_existing_name(
    client, login, db_session, look_alike
):
    admin = login("police.admin")
    db_session.rollback()
    before = db_session.scalars(sa.select(User.username)).all()
    made = new_user(client, admin, look_alike)
    assert made.status_code == 422, look_alike
    assert made.get_json()["errors"]["json"]["username"]
    db_session.rollback()
    assert db_session.scalars(sa.select(User.username)).all() == before


def test_a_look_alike_of_another_organisations_name_gets_the_same_generic_answer(client, login):
    # Another organisation's name or a look-alike of it: the same answer as any taken name,
    # so the answer does not tell which names other organisations use.
    admin = login("police.admin")
    taken = new_user(client, admin, "swa.staff").get_json()
    look_alike = new_user(client, admin, "swa.5taff").get_json()
    similar = new_user(client, admin, "svva.staff").get_json()
    assert taken["errors"] == look_alike["errors"] == similar["errors"]


def test_an_honest_new_name_is_still_made(client, login):
    admin = login("police.admin")
    assert new_user(client, admin, "police.officer2").status_code == 201
    assert new_user(client, admin, "pc.jones").status_code == 201
    assert attempt(client, "pc.jones", PASSWORD).status_code == 200


def test_a_look_alike_made_before_the_rule_cannot_reset_the_real_names_lock(client, db_session):
    # A look-alike left from before this rule (made straight in the database, as the old rule
    # allowed): its owner guesses police.officer's password, signing in as the look-alike
    # between guesses to clear the count. The lock is keyed by the exact name: it holds.
    from partnership_api import auth

    db_session.rollback()
    real = db_session.scalar(sa.select(User).where(User.username == "police.officer"))
    db_session.add(
        User(
            id=uuid.uuid4(),
            username="police.officer\n",
            organisation_id=real.organisation_id,
            role="staff",
            password_hash=auth.hash_password(PASSWORD),
        )
    )
    db_session.commit()
    for i in range(4):
        assert attempt(client, "police.officer", f"guess-{i}").status_code == 401
    assert attempt(client, "police.officer\n", PASSWORD).status_code == 200
    assert attempt(client, "police.officer", "guess-5").status_code == 401  # the fifth
    assert attempt(client, "police.officer", DEMO_PASSWORD).status_code == 429


def test_names_are_matched_exactly_at_sign_in(client, db_session):
    # A name typed in capitals, or with a space or a newline after it, is not the account.
    for typed in ("Police.Officer", "police.officer ", "police.officer\n"):
        answer = attempt(client, typed, DEMO_PASSWORD, "198.51.100.62")
        assert answer.status_code == 401, repr(typed)
    # ... and its wrong passwords do not lock the real name.
    for i in range(6):
        attempt(client, "Police.Officer", f"guess-{i}", "198.51.100.62")
    assert attempt(client, "police.officer", DEMO_PASSWORD, "198.51.100.62").status_code == 200
    db_session.rollback()
    refused = db_session.scalars(
        sa.select(AuditEvent.username).where(
            AuditEvent.action == "auth.login", AuditEvent.outcome == "refused"
        )
    ).all()
    assert "Police.Officer" in refused
