"""Keeping the events safe and small, told by Staffordshire Women's Aid's admin and the
operator who runs the service: webhook secrets sealed in the database (a stolen backup signs
nothing), emails that say only that something is waiting, and pruning of what nobody needs.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import (
    VICTIM_DATE_OF_BIRTH,
    VICTIM_NAME,
    VICTIM_PHONE,
    VICTIM_SAFE_TIMES,
    all_events,
    glow_family,
    matched,
    positions_of,
    refer,
    register,
    run_worker,
    set_alert,
    swa_reports,
    verified,
)
from tests.webhook_receiver import Receiver

KEY_ONE = "first-webhook-sealing-key-0123456789abcdef"
KEY_TWO = "second-webhook-sealing-key-0123456789abcdef"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def stored(app, hook_id) -> tuple[str, str | None]:
    from partnership_api.extensions import db
    from partnership_api.models.events import WebhookEndpoint

    with app.app_context():
        row = db.session.get(WebhookEndpoint, hook_id)
        found = (row.secret, row.previous_secret)
        db.session.remove()
    return found


def attempts(client, login, hook_id) -> list[dict]:
    response = client.get(f"/api/v1/webhooks/{hook_id}/attempts", headers=login("swa.admin"))
    assert response.status_code == 200
    return response.get_json()


# --- secrets at rest --------------------------------------------------------------------------


def test_the_database_holds_no_webhook_secret_in_plain_text(client, login, ids, app, receiver):
    import uuid

    hook = register(client, login, receiver.url())
    secret = hook["secret"]
    sealed, _ = stored(app, uuid.UUID(hook["id"]))
    assert sealed.startswith("fernet:")
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    # Rotated: the old secret is kept sealed too, and both still sign.
    admin = login("swa.admin")
    rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    new_secret = rotated.get_json()["secret"]
    sealed, previous = stored(app, uuid.UUID(hook["id"]))
    assert previous.startswith("fernet:") and sealed.startswith("fernet:")
    for plain in (secret, new_secret):
        assert plain.removeprefix("whsec_") not in sealed + previous
    swa_reports(client, login, ids, 1)
    run_worker(app)
    delivery = receiver.delivered()[0]
    verified(secret, delivery)
    verified(new_secret, delivery)
    # No webhook answer shows the secret again.
    listed = client.get("/api/v1/webhooks", headers=login("swa.admin")).get_json()
    assert all("secret" not in item for item in listed)


def test_the_sealing_key_rotates_and_a_wrong_key_sends_nothing(
    client, login, ids, app, receiver, monkeypatch
):
    import uuid

    monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEY", KEY_ONE)
    hook = register(client, login, receiver.url())
    before, _ = stored(app, uuid.UUID(hook["id"]))
    # The operator puts a new key in front of the old one and reseals.
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEY", f"{KEY_TWO},{KEY_ONE}")
    result = app.test_cli_runner().invoke(args=["events", "reseal"])
    assert result.exit_code == 0, result.output
    assert "1 webhooks" in result.output
    after, _ = stored(app, uuid.UUID(hook["id"]))
    assert after != before
    # The old key can go: the new one alone opens the secret, and deliveries verify.
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEY", KEY_TWO)
    swa_reports(client, login, ids, 1)
    run_worker(app)
    assert len(receiver.delivered()) == 1
    verified(hook["secret"], receiver.delivered()[0])
    # A key that opens nothing: the worker sends nothing unsigned; the admin sees why.
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEY", "an-unrelated-key-" + "x" * 32)
    swa_reports(client, login, ids, 2)
    run_worker(app)
    assert len(receiver.received) == 1
    last = attempts(client, login, hook["id"])[0]
    assert last["outcome"] == "refused" and "WEBHOOK_SECRET_KEY" in last["error"]


@pytest.mark.parametrize("key", [None, "", "short", f"{KEY_ONE},short"])
def test_production_refuses_to_start_without_a_sealing_key(key):
    from partnership_api.settings import ConfigError, check_settings

    # A random-looking signing key: "j" * 48 is itself refused now (issue 25).
    signing_key = "Jx8-pQ2rT5vW9yB1cE4fH7kM0nS3uZ6aD_gL"
    config = {"APP_ENV": "production", "JWT_SECRET_KEY": signing_key, "WEBHOOK_SECRET_KEY": key}
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET_KEY"):
        check_settings(config)
    check_settings({**config, "WEBHOOK_SECRET_KEY": KEY_ONE})  # a real key: it starts


# --- emails -----------------------------------------------------------------------------------


class MailServer:
    """A real SMTP server on loopback (aiosmtpd) that keeps every message it is given."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
                with server.lock:
                    server.messages.append(
                        {"to": list(envelope.rcpt_tos), "text": envelope.content.decode()}
                    )
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def received(self) -> list[dict]:
        with self.lock:
            return list(self.messages)


@pytest.fixture
def mail(app, monkeypatch):
    server = MailServer()
    server.controller.start()
    monkeypatch.setitem(app.config, "SMTP_URL", server.url)
    from partnership_api.events import notices

    monkeypatch.setattr(notices, "_paused_until", 0.0)
    try:
        yield server
    finally:
        server.controller.stop()


def user_id(client, login, admin, username) -> str:
    users = client.get("/api/v1/users?page_size=100", headers=login(admin)).get_json()
    return next(u["id"] for u in users if u["username"] == username)


def set_email(client, login, admin, username, email):
    return client.patch(
        f"/api/v1/users/{user_id(client, login, admin, username)}",
        json={"email": email},
        headers=login(admin),
    )


def give_email(client, login, admin, username, email) -> None:
    response = set_email(client, login, admin, username, email)
    assert response.status_code == 200, response.get_json()


def test_a_user_admin_sets_an_email_address_and_nobody_else_can(client, login):
    changed = set_email(client, login, "swa.admin", "swa.staff", "night.shift@swa.example")
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["email"] == "night.shift@swa.example"
    assert set_email(client, login, "swa.admin", "swa.staff", "not an address").status_code == 422
    too_long = "a" * 250 + "@swa.example"
    assert set_email(client, login, "swa.admin", "swa.staff", too_long).status_code == 422
    # Another organisation's admin cannot see (or change) SWA's users.
    swa_staff = user_id(client, login, "swa.admin", "swa.staff")
    other = client.patch(
        f"/api/v1/users/{swa_staff}",
        json={"email": "attacker@evil.example"},
        headers=login("newera.admin"),
    )
    assert other.status_code == 404
    # Made with one, and removed again.
    made = client.post(
        "/api/v1/users",
        json={
            "username": "swa.figures",
            "full_name": "Figures",
            "role": "analyst",
            "password": "a-long-enough-password",
            "email": "figures@swa.example",
        },
        headers=login("swa.admin"),
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["email"] == "figures@swa.example"
    cleared = set_email(client, login, "swa.admin", "swa.figures", None)
    assert cleared.status_code == 200 and cleared.get_json()["email"] is None


def test_a_refuge_is_emailed_that_a_referral_arrived_once_and_without_personal_data(
    client, login, ids, app, mail
):
    run_worker(app)  # the emails' reader starts at the newest event: nothing old is sent
    give_email(client, login, "swa.admin", "swa.staff", "night@swa.example")
    give_email(client, login, "swa.admin", "swa.admin", "admin@swa.example")
    # An analyst (figures only) of the refuge, and a police user, have addresses too.
    analyst = client.post(
        "/api/v1/users",
        json={
            "username": "swa.figures",
            "role": "analyst",
            "password": "a-long-enough-password",
            "email": "figures@swa.example",
        },
        headers=login("swa.admin"),
    )
    assert analyst.status_code == 201
    give_email(client, login, "police.admin", "police.officer", "pc@police.example")
    referral = refer(client, login, ids.service["Staffordshire Women's Aid refuge"])
    read = client.get(f"/api/v1/referrals/{referral}", headers=login("police.officer")).get_json()
    reference = read["reference"]
    # Nothing is sent from the web request itself.
    time.sleep(0.2)
    assert mail.received() == []
    run_worker(app)
    got = mail.received()
    assert sorted(address for m in got for address in m["to"]) == [
        "admin@swa.example",
        "night@swa.example",
    ]
    for message in got:
        assert (
            f"A referral {reference} was sent to your service. Sign in to read it."
            in (message["text"])
        )
        for personal in (VICTIM_NAME, VICTIM_DATE_OF_BIRTH, VICTIM_PHONE, VICTIM_SAFE_TIMES):
            assert personal not in message["text"]
    # Sent once: later passes send nothing more.
    run_worker(app)
    run_worker(app)
    assert len(mail.received()) == 2


def test_the_officer_who_set_a_vacancy_alert_is_emailed_when_it_fires(
    client, login, ids, app, mail
):

    give_email(client, login, "police.admin", "police.officer", "pc@police.example")
    referral = refer(client, login, ids.service["Glow refuge"])
    set_alert(client, login, referral)
    glow_family(client, login, ids, 0)
    run_worker(app)
    before = len(mail.received())
    glow_family(client, login, ids, 1)  # a family room opens
    run_worker(app)
    run_worker(app)
    assert len(matched(app)) == 1
    news = mail.received()[before:]
    assert [m["to"] for m in news] == [["pc@police.example"]]
    assert "A space that fits your vacancy alert" in news[0]["text"]
    assert "Glow" not in news[0]["text"] and VICTIM_NAME not in news[0]["text"]


def test_a_mail_server_that_is_down_delays_the_emails_without_losing_them(
    client, login, ids, app, mail, monkeypatch
):
    from partnership_api.events import notices

    run_worker(app)
    give_email(client, login, "swa.admin", "swa.staff", "night@swa.example")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{dead}")
    refer(client, login, ids.service["Staffordshire Women's Aid refuge"])
    run_worker(app)
    assert mail.received() == []
    monkeypatch.setitem(app.config, "SMTP_URL", mail.url)
    monkeypatch.setattr(notices, "_paused_until", 0.0)  # a minute later
    run_worker(app)
    assert [m["to"] for m in mail.received()] == [["night@swa.example"]]


# --- pruning ----------------------------------------------------------------------------------


def test_pruning_keeps_what_a_webhook_still_needs_and_drops_the_rest(
    client, login, ids, app, receiver
):
    from partnership_api.events import prune
    from partnership_api.extensions import db
    from partnership_api.models.base import utcnow
    from partnership_api.models.events import EventOrganisation, WebhookAttempt

    hook = register(client, login, receiver.url())
    for vacant in (1, 2, 3):
        swa_reports(client, login, ids, vacant)
    run_worker(app)
    assert len(receiver.delivered()) == 3
    # A second endpoint, disabled, has had none of what comes next: that is kept for it.
    late = register(client, login, receiver.url("/late"), who="newera.admin")
    client.patch(
        f"/api/v1/webhooks/{late['id']}", json={"enabled": False}, headers=login("newera.admin")
    )
    swa_reports(client, login, ids, 0)
    swa_reports(client, login, ids, 1)
    positions = [e["position"] for e in all_events(app)]
    with app.app_context():
        # Within the retention, nothing goes.
        assert prune.run(utcnow() + timedelta(days=29)) == {"events": 0, "attempts": 0}
        pruned = prune.run(utcnow() + timedelta(days=31))
        db.session.remove()
    left = [e["position"] for e in all_events(app)]
    assert pruned["attempts"] >= 3 and pruned["events"] >= 3
    # Everything before the disabled endpoint's position went; what it has yet to get stayed.
    assert left == positions[-2:] or left == positions[-3:]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == 0
        # An event's organisations go with it (no foreign key does it for the outbox).
        heard = set(db.session.scalars(sa.select(EventOrganisation.position)))
        assert heard and heard <= set(left)
        db.session.remove()
    # Enabled again, it gets what was kept for it, in order.
    client.patch(
        f"/api/v1/webhooks/{late['id']}", json={"enabled": True}, headers=login("newera.admin")
    )
    run_worker(app)
    got = positions_of(app, [verified(late["secret"], d) for d in receiver.delivered("/late")])
    assert got == positions[-2:]
    assert hook["id"]


def test_the_operator_prunes_from_the_command_line(client, login, ids, app, monkeypatch):
    swa_reports(client, login, ids, 1)
    swa_reports(client, login, ids, 2)
    monkeypatch.setitem(app.config, "EVENT_RETENTION_DAYS", 0)
    time.sleep(0.01)
    result = app.test_cli_runner().invoke(args=["events", "prune"])
    assert result.exit_code == 0, result.output
    assert "pruned 1 events" in result.output  # the newest stays (the outbox's head)
    assert len(all_events(app)) == 1
