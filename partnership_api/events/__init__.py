"""Events that tell partner systems and people what happened: the outbox (``outbox``), the
catch-up feed (``feed``) and the listeners' cursors (``cursors``), the webhooks' delivery
worker (``delivery``, ``outcomes``, ``messages``, ``ssrf``, ``secret_box``, ``backlog``), the
time-based events (``sweep``), emails (``notices``) and pruning (``prune``). Registering
webhooks and setting vacancy alerts are services (``services.webhooks``,
``services.vacancy_alerts``: policy, audit, commit); the worker runs the alerts' matcher.

Services call ``events.emit(...)`` (or ``events.record(session, type, ...)``) inside the
transaction of the change; nothing is sent from a web request. See ``outbox`` for why
positions never skip an event, and ``cursors`` for why none is shown.
"""

from partnership_api.events.outbox import EVENT_TYPES, emit, emit_for_referral, record

__all__ = ["EVENT_TYPES", "emit", "emit_for_referral", "record"]
