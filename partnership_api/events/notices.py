"""Emails, optional: with ``SMTP_URL`` set, people are told that something is waiting for
them, and nothing more.

- ``referral.created``: the receiving organisation's users whose role reads referrals (the
  policy's ``referral.read``) and who have an email address: "A referral REF-2026-000123 was
  sent to your service. Sign in to read it."
- ``vacancy.matched``: the user who set the alert, while they may still manage alerts: "A
  space that fits your vacancy alert (referral REF-…) has opened. Sign in to see it."

Never personal data: no name, no household, no refuge, only the referral's reference. Sent
by the delivery worker, never from a web request, reading the outbox after its own position
(``EventConsumer`` ``emails``), one event at a time: the position moves on once the event's
emails are sent, so each is sent once (a worker that dies between sending and recording sends
that one event's emails again). On PostgreSQL the position's row stays locked while sending,
so two workers never send the same; an unreachable mail server is tried again a minute later.
Addresses are never logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import context, policy
from partnership_api.actors import Actor
from partnership_api.database import db
from partnership_api.events.outbox import last_position
from partnership_api.models.events import Event, EventConsumer, VacancyAlert
from partnership_api.models.partnership import Organisation, User
from partnership_api.models.referrals import Referral

log = logging.getLogger("partnership_api.notices")

READER = "emails"
NOTIFIED = ("referral.created", "vacancy.matched")
AT_ONCE = 20
RETRY_AFTER = 60.0
_paused_until = 0.0


@dataclass(frozen=True)
class Notice:
    to: str
    subject: str
    text: str


def _actor(user: User, org: Organisation) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        org_id=org.id,
        org_kind=org.kind,
        org_name=org.name,
        role=user.role,
        partnership_admin=user.partnership_admin,
        session_id=user.id,
    )


def _reachable(where) -> list[tuple[User, Organisation]]:
    return list(
        db.session.execute(
            sa.select(User, Organisation)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(where, User.active.is_(True), User.email.is_not(None))
            .order_by(User.username)
        ).tuples()
    )


def _reference(referral_id: str | None) -> str | None:
    if not referral_id:
        return None
    return db.session.scalar(
        sa.select(Referral.reference).where(Referral.id == uuid.UUID(str(referral_id)))
    )


def notices_for(event: Event) -> list[Notice]:
    """Who is told of this event, and the words: no personal data."""
    data = event.data or {}
    if event.type == "referral.created":
        reference = _reference(data.get("referral_id"))
        if reference is None:
            return []
        return [
            Notice(
                user.email,
                f"New referral {reference}",
                f"A referral {reference} was sent to your service. Sign in to read it.\n",
            )
            for user, org in _reachable(User.organisation_id == data.get("to_organisation_id"))
            if policy.can(_actor(user, org), "referral.read")
        ]
    if event.type == "vacancy.matched":
        alert = db.session.get(VacancyAlert, uuid.UUID(str(data["alert_id"])))
        if alert is None or alert.created_by_user_id is None:
            return []
        reference = _reference(data.get("referral_id"))
        which = f" (referral {reference})" if reference else ""
        return [
            Notice(
                user.email,
                "A space has opened",
                f"A space that fits your vacancy alert{which} has opened. Sign in to see it.\n",
            )
            for user, org in _reachable(User.id == alert.created_by_user_id)
            if org.id == alert.organisation_id
            and policy.can(_actor(user, org), "vacancy_alert.manage")
        ]
    return []


def send(notices: list[Notice]) -> None:
    """Send through ``SMTP_URL``: ``smtp://``, ``smtp+starttls://`` or ``smtps://``, with
    ``user:password@`` if the server wants them."""
    if not notices:
        return
    url = urlsplit(str(context.setting("SMTP_URL")))
    timeout = float(context.setting_or("WEBHOOK_TIMEOUT_SECONDS", 15))
    host = url.hostname or "localhost"
    if url.scheme == "smtps":
        server = smtplib.SMTP_SSL(
            host, url.port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(host, url.port or 25, timeout=timeout)
    with server:
        if url.scheme == "smtp+starttls":
            server.starttls(context=ssl.create_default_context())
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        sender = str(context.setting_or("SMTP_FROM", "partnership@localhost"))
        for notice in notices:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = sender, notice.to, notice.subject
            message.set_content(notice.text)
            server.send_message(message)


def _reader() -> EventConsumer | None:
    """The emails' position, locked (None: another worker holds it). Made at the newest
    position the first time, so turning emails on does not send the past."""
    reader = db.session.scalar(
        sa.select(EventConsumer)
        .where(EventConsumer.name == READER)
        .with_for_update(skip_locked=True)
    )
    if reader is not None:
        return reader
    if db.session.get(EventConsumer, READER) is not None:
        return None
    reader = EventConsumer(name=READER, position=last_position())
    db.session.add(reader)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return reader


def run() -> int:
    """Send the emails of the events after the position; how many events were dealt with."""
    global _paused_until
    if not context.setting_or("SMTP_URL", None) or time.monotonic() < _paused_until:
        return 0
    hold_lock_while_sending = db.session.get_bind().dialect.name == "postgresql"
    done = 0
    while done < AT_ONCE:
        reader = _reader()
        if reader is None:
            db.session.commit()
            break
        # Every position up to ``top`` was committed before it was read (``outbox``).
        top = last_position()
        event = db.session.scalar(
            sa.select(Event)
            .where(
                Event.position > reader.position,
                Event.position <= top,
                Event.type.in_(NOTIFIED),
            )
            .order_by(Event.position)
            .limit(1)
        )
        if event is None:
            reader.position = max(reader.position, top)
            db.session.commit()
            break
        position, notices = event.position, notices_for(event)
        if not hold_lock_while_sending:
            db.session.commit()  # SQLite: no write lock held while the mail server answers
        try:
            send(notices)
        except (OSError, smtplib.SMTPException) as error:
            db.session.rollback()
            _paused_until = time.monotonic() + RETRY_AFTER
            log.warning(
                "emails not sent; trying again in a minute",
                extra={"event_position": position, "error": type(error).__name__},
            )
            break
        db.session.execute(
            sa.update(EventConsumer)
            .where(EventConsumer.name == READER, EventConsumer.position < position)
            .values(position=position)
        )
        db.session.commit()
        done += 1
        if notices:
            log.info("emails sent", extra={"event_position": position, "count": len(notices)})
    return done
