"""The delivery worker: ``flask --app wsgi deliver`` sends each endpoint its events.

- **Sharing the work.** A worker claims endpoints that have something due with
  ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite, where one worker suffices, takes its
  write lock at BEGIN) and marks them leased to itself for ``LEASE``; another worker skips a
  leased endpoint, so in the normal case each event reaches each endpoint once. A worker that
  dies leaves a lease that simply runs out.
- **Order and retries.** An endpoint gets its events in position order: the first event it has
  not had is tried until it is delivered (``webhook-id`` is the event's id, the same on every
  try, so receivers drop duplicates), with backoff (``outcomes.RETRY_DELAYS``, about three
  days in all). An endpoint still failing after the last retry is disabled with the reason,
  which its organisation's admins see; its events are kept and sent once it is enabled
  again. A ``410 Gone`` disables it at once. Replays are sent beside the stream.
- **Batches.** An endpoint's due events go as one batch: one locked read (renewing the
  lease), the secrets opened and the URL checked once (``ssrf``: resolved, private and
  metadata addresses refused) and that address used for the whole batch, over one kept-alive
  connection; the stream stops at its first failure. The outcomes (the attempts, the
  endpoint's position or failures) are then written in one transaction (``outcomes``), which
  also gives the lease back.
- **No transaction while sending.** The sends happen with no transaction open (on SQLite an
  open one would hold the database's write lock).
- **Stopping and faults.** SIGTERM and SIGINT stop the loop after the send in progress; what
  was sent is recorded and the leases are given back. A database that goes away (PostgreSQL
  restarting) is waited for and the loop goes on; what was sent but not recorded is sent
  again (at least once).
- **Upkeep.** Every few seconds the loop also writes time-based events (``sweep``), about
  every second fires vacancy alerts (``services.vacancy_alerts.match``) and sends emails
  (``notices``, with ``SMTP_URL``); about hourly it prunes what the retention no longer keeps
  (``prune``).
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

from partnership_api import context, metrics
from partnership_api.events import backlog, secret_box, ssrf
from partnership_api.events.backlog import heard_by
from partnership_api.events.messages import Outgoing, payload, signed_headers
from partnership_api.events.outbox import last_position
from partnership_api.events.outcomes import Sent, record
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.events import Event, WebhookEndpoint, WebhookReplay
from partnership_api.models.partnership import Organisation

log = logging.getLogger("partnership_api.delivery")

LEASE = timedelta(seconds=120)
# Few endpoints at a time, so that a second worker finds some to take.
CLAIM_AT_ONCE = 2
BATCH = 50
SWEEP_EVERY = 5.0
# Vacancy alerts and email notices: at most this often (seconds), not on every pass.
UPKEEP_EVERY = 1.0
PRUNE_EVERY = 3600.0
BACKLOG_EVERY = 15.0  # the backlog metrics (events/backlog.py)
# What a database going away raises: the driver's errors, and SQLAlchemy's refusal to go on
# with a session whose connection died mid-transaction.
DATABASE_GONE = (DBAPIError, PendingRollbackError)


class Worker:
    """One delivery loop. ``run_once`` does one pass (tests call it); ``run`` loops."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stopping = False
        self._last_sweep = 0.0
        self._last_upkeep = 0.0
        self._last_backlog = 0.0
        self._top: int | None = None  # the newest position, as read by this pass's claim
        self._kinds: dict[int, str | None] = {}  # organisation id -> kind (never changes)
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
        from partnership_api.events import notices, prune, sweep
        from partnership_api.services import vacancy_alerts

        if now is not None or time.monotonic() - self._last_sweep >= SWEEP_EVERY:
            sweep.run(now)
            self._last_sweep = time.monotonic()
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            prune.run(now)
            self._last_prune = time.monotonic()
        if now is not None or time.monotonic() - self._last_upkeep >= UPKEEP_EVERY:
            metrics.VACANCY_ALERTS_MATCHED.inc(vacancy_alerts.match(now))
            notices.run()
            self._last_upkeep = time.monotonic()
        sent = False
        claimed = self.claim(now or utcnow())
        for n, endpoint_id in enumerate(claimed):
            if self.stopping:
                for left in claimed[n:]:
                    self._release(left)
                break
            try:
                sent = self.deliver(endpoint_id, now) or sent
            except BaseException:
                self._release(endpoint_id)
                raise
        if time.monotonic() - self._last_backlog >= BACKLOG_EVERY:
            backlog.record_metrics()  # after the sends: how far behind the pass left them
            self._last_backlog = time.monotonic()
        return sent

    # --- claiming -----------------------------------------------------------------------------

    def claim(self, now: datetime) -> list[uuid.UUID]:
        """Lease endpoints with something due to this worker (skipping those others hold)."""
        top = self._top = last_position()
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

    def deliver(self, endpoint_id: uuid.UUID, now: datetime | None = None) -> bool:
        """Send a leased endpoint what is due, as one batch: its stream in order (up to the
        first failure), then replays; all outcomes recorded at once. Whether anything was sent.
        The lease is given back with the outcomes."""
        when = now or utcnow()
        endpoint = db.session.get(
            WebhookEndpoint, endpoint_id, populate_existing=True, with_for_update=True
        )
        if endpoint is None or endpoint.lease_owner != self.name or not endpoint.enabled:
            db.session.commit()
            return False
        top = self._top if self._top is not None else last_position()
        stream: list[Outgoing] = []
        committed_at: dict = {}
        if endpoint.next_attempt_at <= when:
            found = db.session.scalars(
                heard_by(endpoint, sa.select(Event), self._kind(endpoint.organisation_id))
                .where(Event.position > endpoint.delivered_position)
                .order_by(Event.position)
                .limit(BATCH)
            ).all()
            org = endpoint.organisation_id
            stream = [Outgoing(e.id, e.position, e.type, payload(e, org)) for e in found]
            committed_at = {e.position: e.occurred_at for e in found}
            # Every position up to ``top`` was committed before it was read (``outbox``): an
            # endpoint that has had all its events up to there has dealt with all of them.
            if not stream and top > endpoint.delivered_position:
                endpoint.delivered_position = top
        replays = [
            (
                row[0],
                Outgoing(
                    row[1].id,
                    row[1].position,
                    row[1].type,
                    payload(row[1], endpoint.organisation_id),
                ),
            )
            for row in db.session.execute(
                sa.select(WebhookReplay.id, Event)
                .join(Event, Event.position == WebhookReplay.event_position)
                .where(
                    WebhookReplay.endpoint_id == endpoint_id, WebhookReplay.next_attempt_at <= when
                )
                .order_by(WebhookReplay.event_position)
                .limit(BATCH)
            ).all()
        ]
        if not stream and not replays:
            endpoint.lease_owner, endpoint.lease_until = None, None
            db.session.commit()
            return False
        sealed = endpoint.secret
        sealed_previous = None
        if endpoint.previous_secret_until and endpoint.previous_secret_until > when:
            sealed_previous = endpoint.previous_secret
        url = endpoint.url
        endpoint.lease_until = utcnow() + LEASE
        db.session.commit()  # no transaction open while sending
        sent = self._send_batch(url, sealed, sealed_previous, stream, replays, now)
        of_stream = [s for s in sent if s.replay_id is None]
        whole = len(of_stream) == len(stream) and all(s.delivered for s in of_stream)
        done_to = top if stream and whole and len(stream) < BATCH else None
        record(endpoint_id, sent, done_to, self.name)
        metrics.delivery_batch(sent, committed_at)
        return True

    def _kind(self, organisation_id: int) -> str | None:
        if organisation_id not in self._kinds:
            self._kinds[organisation_id] = db.session.scalar(
                sa.select(Organisation.kind).where(Organisation.id == organisation_id)
            )
        return self._kinds[organisation_id]

    def _send_batch(
        self,
        url: str,
        sealed: str,
        sealed_previous: str | None,
        stream: list[Outgoing],
        replays: list[tuple[int, Outgoing]],
        now: datetime | None,
    ) -> list[Sent]:
        """Check the URL once, then send over one connection to the address checked: the
        stream until its first failure, then the replays. No transaction is open meanwhile."""
        at = now or utcnow()
        first = stream[0] if stream else replays[0][1]
        first_replay = None if stream else replays[0][0]
        try:
            secret = secret_box.open_(sealed)
            previous = secret_box.open_(sealed_previous)
            target = ssrf.check_url(
                url,
                production=context.setting("APP_ENV") == "production",
                allow_private=bool(context.setting_or("WEBHOOKS_ALLOW_PRIVATE", False)),
            )
        except (ssrf.UnsafeURL, secret_box.SecretUnreadable) as refusal:
            why = "Refused" if isinstance(refusal, ssrf.UnsafeURL) else "Not sent"
            answer = ssrf.Answer(None, f"{why}: {refusal}", 0)
            return [Sent(first, answer, "refused", at, first_replay)]
        timeout = float(context.setting_or("WEBHOOK_TIMEOUT_SECONDS", 15))
        # Sends stop well inside the lease, so that no other worker takes the endpoint over.
        until = time.monotonic() + LEASE.total_seconds() / 2 - timeout
        sent: list[Sent] = []
        queue = [(None, item) for item in stream] + list(replays)
        with ssrf.Connection(target, timeout) as connection:
            for replay_id, item in queue:
                if self.stopping or (sent and time.monotonic() > until):
                    break
                if replay_id is None and sent and not sent[-1].delivered:
                    continue  # the stream stops at its first failure; replays go on
                headers = signed_headers(secret, previous, item.event_id, item.body, utcnow())
                answer = connection.post(item.body, headers)
                outcome = "delivered" if answer.error is None else "failed"
                sent.append(Sent(item, answer, outcome, now or utcnow(), replay_id))
        return sent
