"""The delivery worker: ``flask --app wsgi deliver`` sends each endpoint its events.

- **Sharing the work.** A worker claims endpoints that have something due with
  ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite, where one worker suffices, takes its
  write lock at BEGIN) and marks them leased to itself for ``LEASE``; another worker skips a
  leased endpoint, so in the normal case each event reaches each endpoint once. A worker that
  dies leaves a lease that simply runs out.
- **Order and retries.** An endpoint gets its events in position order: the first event it has
  not had is tried until it is delivered (``webhook-id`` is the event's id, the same on every
  try, so receivers drop duplicates), with backoff (``RETRY_DELAYS``, about three days in all).
  An endpoint still failing after the last retry is disabled with the reason, which its
  organisation's admins see; its events are kept and sent once it is enabled again. A
  ``410 Gone`` disables it at once. Replays are sent beside the stream.
- **No transaction while sending.** Each send happens with no transaction open (on SQLite an
  open one would hold the database's write lock), and each outcome is committed on its own.
- **Stopping and faults.** SIGTERM and SIGINT stop the loop after the send in progress; the
  leases are given back. A database that goes away (PostgreSQL restarting) is waited for and
  the loop goes on; what was sent but not recorded is sent again (at least once).
- **Upkeep.** Each pass also writes time-based events (``sweep``), fires vacancy alerts
  (``alerts``) and sends emails (``notices``, with ``SMTP_URL``); about hourly it prunes what
  the retention no longer keeps (``prune``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, PendingRollbackError

from partnership_api import context
from partnership_api.events import secret_box, ssrf
from partnership_api.events.messages import Outgoing, payload, signed_headers
from partnership_api.events.outbox import last_position
from partnership_api.events.webhooks import heard_by
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.events import Event, WebhookAttempt, WebhookEndpoint, WebhookReplay

log = logging.getLogger("partnership_api.delivery")

# Seconds to wait after the 1st, 2nd, … failed try (Standard Webhooks' usual schedule,
# stretched to about three days); after the last, the endpoint is disabled.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000)
LEASE = timedelta(seconds=120)
CLAIM_AT_ONCE = 10
BATCH = 50
SWEEP_EVERY = 5.0
PRUNE_EVERY = 3600.0
# What a database going away raises: the driver's errors, and SQLAlchemy's refusal to go on
# with a session whose connection died mid-transaction.
DATABASE_GONE = (DBAPIError, PendingRollbackError)


class Worker:
    """One delivery loop. ``run_once`` does one pass (tests call it); ``run`` loops."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stopping = False
        self._last_sweep = 0.0
        self._last_prune = time.monotonic()  # the first an hour after starting

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        """Deliver until SIGTERM or SIGINT; wait out database outages."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        poll = float(context.setting_or("WORKER_POLL_SECONDS", 0.25))
        pause = poll
        log.info("delivery worker started", extra={"worker": self.name})
        while not self.stopping:
            try:
                busy = self.run_once()
                pause = poll
            except DATABASE_GONE:
                log.warning("database unavailable; the worker waits", extra={"worker": self.name})
                self._forget_session()
                busy = False
                pause = min(max(pause * 2, 0.5), 5.0)
            except Exception:  # noqa: BLE001 - logged; one bad pass must not stop deliveries
                log.exception("delivery pass failed", extra={"worker": self.name})
                self._forget_session()
                busy = False
                pause = 5.0
            if not busy:
                self._sleep(pause)
        self._release_all()
        log.info("delivery worker stopped", extra={"worker": self.name})

    def _stop(self, _signum, _frame) -> None:
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.05, seconds))

    def _forget_session(self) -> None:
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is already gone
            log.debug("rollback failed on a lost connection")
        db.session.remove()

    def run_once(self, now: datetime | None = None) -> bool:
        """One pass: time-based events and vacancy alerts, then every endpoint due. Whether
        anything was sent."""
        from partnership_api.events import alerts, notices, prune, sweep

        if now is not None or time.monotonic() - self._last_sweep >= SWEEP_EVERY:
            sweep.run(now)
            self._last_sweep = time.monotonic()
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            prune.run(now)
            self._last_prune = time.monotonic()
        alerts.match(now)
        notices.run()
        sent = False
        for endpoint_id in self.claim(now or utcnow()):
            if self.stopping:
                break
            try:
                sent = self.deliver(endpoint_id, now) or sent
            finally:
                self._release(endpoint_id)
        return sent

    # --- claiming -----------------------------------------------------------------------------

    def claim(self, now: datetime) -> list[uuid.UUID]:
        """Lease endpoints with something due to this worker (skipping those others hold)."""
        top = last_position()
        replay_due = sa.exists().where(
            WebhookReplay.endpoint_id == WebhookEndpoint.id, WebhookReplay.next_attempt_at <= now
        )
        due = (
            sa.select(WebhookEndpoint.id)
            .where(
                WebhookEndpoint.enabled.is_(True),
                # Free, run out, or this worker's own (kept when the database went away
                # before it could give it back).
                sa.or_(
                    WebhookEndpoint.lease_until.is_(None),
                    WebhookEndpoint.lease_until < now,
                    WebhookEndpoint.lease_owner == self.name,
                ),
                sa.or_(
                    sa.and_(
                        WebhookEndpoint.next_attempt_at <= now,
                        WebhookEndpoint.delivered_position < top,
                    ),
                    replay_due,
                ),
            )
            .order_by(WebhookEndpoint.next_attempt_at)
            .limit(CLAIM_AT_ONCE)
            .with_for_update(skip_locked=True)
        )
        ids = list(db.session.scalars(due))
        if ids:
            db.session.execute(
                sa.update(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_(ids))
                .values(lease_owner=self.name, lease_until=utcnow() + LEASE)
            )
        db.session.commit()
        return ids

    def _release(self, endpoint_id: uuid.UUID) -> None:
        try:
            db.session.execute(
                sa.update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.lease_owner == self.name)
                .values(lease_owner=None, lease_until=None)
            )
            db.session.commit()
        except DATABASE_GONE:
            self._forget_session()  # the lease runs out by itself

    def _release_all(self) -> None:
        try:
            db.session.execute(
                sa.update(WebhookEndpoint)
                .where(WebhookEndpoint.lease_owner == self.name)
                .values(lease_owner=None, lease_until=None)
            )
            db.session.commit()
        except DATABASE_GONE:
            self._forget_session()

    # --- delivering ---------------------------------------------------------------------------

    def _mine(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        """The endpoint, locked, while this worker holds its lease (which is renewed)."""
        endpoint = db.session.get(
            WebhookEndpoint, endpoint_id, populate_existing=True, with_for_update=True
        )
        if endpoint is None or endpoint.lease_owner != self.name or not endpoint.enabled:
            return None
        endpoint.lease_until = utcnow() + LEASE
        return endpoint

    def deliver(self, endpoint_id: uuid.UUID, now: datetime | None = None) -> bool:
        """Send a leased endpoint what is due: its stream in order, then replays."""
        sent = self._deliver_stream(endpoint_id, now)
        return self._deliver_replays(endpoint_id, now) or sent

    def _deliver_stream(self, endpoint_id: uuid.UUID, now: datetime | None) -> bool:
        endpoint = self._mine(endpoint_id)
        if endpoint is None or endpoint.next_attempt_at > (now or utcnow()):
            db.session.commit()
            return False
        # Every position up to ``top`` was committed before it was read (``outbox``): when
        # the endpoint has had all its events up to there, it has dealt with all of them.
        top = last_position()
        found = db.session.scalars(
            heard_by(endpoint, sa.select(Event))
            .where(Event.position > endpoint.delivered_position)
            .order_by(Event.position)
            .limit(BATCH)
        ).all()
        outgoing = [Outgoing(e.id, e.position, e.type, payload(e)) for e in found]
        if not outgoing:
            if top > endpoint.delivered_position:
                endpoint.delivered_position = top
            db.session.commit()
            return False
        sent = False
        for item in outgoing:
            if self.stopping:
                break
            ok = self._send(endpoint_id, item, replay=False, now=now)
            sent = True
            if not ok:
                return sent
        if len(outgoing) < BATCH:
            endpoint = self._mine(endpoint_id)
            if endpoint is not None and top > endpoint.delivered_position:
                endpoint.delivered_position = top
            db.session.commit()
        return sent

    def _deliver_replays(self, endpoint_id: uuid.UUID, now: datetime | None) -> bool:
        when = now or utcnow()
        endpoint = self._mine(endpoint_id)
        if endpoint is None:
            db.session.commit()
            return False
        rows = db.session.execute(
            sa.select(WebhookReplay.id, Event)
            .join(Event, Event.position == WebhookReplay.event_position)
            .where(WebhookReplay.endpoint_id == endpoint_id, WebhookReplay.next_attempt_at <= when)
            .order_by(WebhookReplay.event_position)
            .limit(BATCH)
        ).all()
        outgoing = [
            (row[0], Outgoing(row[1].id, row[1].position, row[1].type, payload(row[1])))
            for row in rows
        ]
        db.session.commit()
        for replay_id, item in outgoing:
            if self.stopping:
                break
            self._send(endpoint_id, item, replay=True, now=now, replay_id=replay_id)
        return bool(outgoing)

    def _send(
        self,
        endpoint_id: uuid.UUID,
        item: Outgoing,
        *,
        replay: bool,
        now: datetime | None,
        replay_id: int | None = None,
    ) -> bool:
        """Send one event (no transaction open meanwhile), then record how it went."""
        endpoint = self._mine(endpoint_id)
        if endpoint is None:
            db.session.commit()
            return False
        url, sealed = endpoint.url, endpoint.secret
        sealed_previous = None
        sent_at = now or utcnow()
        if endpoint.previous_secret_until and endpoint.previous_secret_until > sent_at:
            sealed_previous = endpoint.previous_secret
        db.session.commit()
        try:
            secret = secret_box.open_(sealed)
            previous = secret_box.open_(sealed_previous)
            target = ssrf.check_url(
                url,
                production=context.setting("APP_ENV") == "production",
                allow_private=bool(context.setting_or("WEBHOOKS_ALLOW_PRIVATE", False)),
            )
        except ssrf.UnsafeURL as unsafe:
            answer = ssrf.Answer(None, f"Refused: {unsafe}", 0)
            outcome = "refused"
        except secret_box.SecretUnreadable as unreadable:
            answer = ssrf.Answer(None, f"Not sent: {unreadable}", 0)
            outcome = "refused"
        else:
            headers = signed_headers(secret, previous, item.event_id, item.body, utcnow())
            answer = ssrf.send(
                target, item.body, headers, float(context.setting_or("WEBHOOK_TIMEOUT_SECONDS", 15))
            )
            outcome = "delivered" if answer.error is None else "failed"
        return self._record(endpoint_id, item, answer, outcome, replay, sent_at, replay_id)

    def _record(
        self,
        endpoint_id: uuid.UUID,
        item: Outgoing,
        answer: ssrf.Answer,
        outcome: str,
        replay: bool,
        at: datetime,
        replay_id: int | None,
    ) -> bool:
        endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
        if endpoint is None:  # deleted meanwhile
            db.session.commit()
            return False
        db.session.add(
            WebhookAttempt(
                endpoint_id=endpoint_id,
                event_id=item.event_id,
                event_position=item.position,
                event_type=item.type,
                attempted_at=at,
                replay=replay,
                status_code=answer.status,
                outcome=outcome,
                error=answer.error,
                duration_ms=answer.duration_ms,
            )
        )
        delivered = outcome == "delivered"
        if answer.status == 410:
            endpoint.enabled = False
            endpoint.disabled_at = at
            endpoint.disabled_reason = "The receiver answered 410 Gone: it wants no more events."
        if replay:
            replay_row = db.session.get(WebhookReplay, replay_id)
            if replay_row is not None:
                if delivered or replay_row.failed_attempts >= len(self._delays()):
                    db.session.delete(replay_row)
                else:
                    replay_row.failed_attempts += 1
                    replay_row.next_attempt_at = at + self._delay(replay_row.failed_attempts)
        elif delivered:
            endpoint.delivered_position = max(endpoint.delivered_position, item.position)
            endpoint.failed_attempts = 0
            endpoint.failing_since = None
            endpoint.last_error = None
            endpoint.next_attempt_at = at
        else:
            endpoint.failed_attempts += 1
            endpoint.failing_since = endpoint.failing_since or at
            endpoint.last_error = answer.error
            if endpoint.enabled and endpoint.failed_attempts > len(self._delays()):
                endpoint.enabled = False
                endpoint.disabled_at = at
                endpoint.disabled_reason = (
                    f"Failing since {endpoint.failing_since.isoformat()} "
                    f"({endpoint.failed_attempts} tries): {answer.error}"
                )[:300]
            else:
                endpoint.next_attempt_at = at + self._delay(endpoint.failed_attempts)
        db.session.commit()
        return delivered

    @staticmethod
    def _delays() -> tuple[float, ...]:
        return tuple(context.setting_or("WEBHOOK_RETRY_DELAYS", None) or RETRY_DELAYS)

    def _delay(self, failures: int) -> timedelta:
        delays = self._delays()
        return timedelta(seconds=delays[min(failures, len(delays)) - 1])
