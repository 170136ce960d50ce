"""``flask --app wsgi deliver``: the delivery worker as its own process."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("deliver")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or a check).")
@click.option("--name", default=None, help="This worker's name in leases (default: host-pid).")
@with_appcontext
def deliver_command(once: bool, name: str | None) -> None:
    """Deliver events to webhooks, write time-based events and fire vacancy alerts, until
    SIGTERM."""
    from flask import current_app

    from partnership_api import metrics
    from partnership_api.events.delivery import Worker

    worker = Worker(name)
    if once:
        worker.run_once()
        return
    address = current_app.config.get("WORKER_METRICS_ADDRESS")
    server = None
    if address:  # this worker's own /metrics, for Prometheus (METRICS_TOKEN as the app's)
        server = metrics.serve_worker_metrics(address, current_app.config.get("METRICS_TOKEN"))
    try:
        worker.run()
    finally:
        if server is not None:
            server.shutdown()


@click.group("events")
def events_group() -> None:
    """The outbox's upkeep."""


@events_group.command("prune")
@with_appcontext
def prune_command() -> None:
    """Delete events every webhook has had, and attempt logs, older than
    EVENT_RETENTION_DAYS."""
    from partnership_api.events import prune

    pruned = prune.run()
    click.echo(f"pruned {pruned['events']} events and {pruned['attempts']} delivery attempts")


@events_group.command("backlog")
@with_appcontext
def backlog_command() -> None:
    """Each webhook endpoint's organisation, state and events not yet delivered (what the
    worker's metrics give only as a distribution, without naming anyone)."""
    from partnership_api.events import backlog

    for row in backlog.measure():
        state = "disabled" if not row.enabled else "failing" if row.failing else "enabled"
        behind = f"{row.behind}+" if row.behind >= backlog.CAP else str(row.behind)
        click.echo(f"{row.endpoint_id}  {state:8}  {behind:>6} behind  {row.organisation}")


@events_group.command("reseal")
@with_appcontext
def reseal_command() -> None:
    """Seal every webhook secret again under the first WEBHOOK_SECRET_KEY (after adding a
    new key in front of the old one)."""
    import sqlalchemy as sa

    from partnership_api.events import secret_box
    from partnership_api.extensions import db
    from partnership_api.models.events import WebhookEndpoint

    endpoints = db.session.scalars(sa.select(WebhookEndpoint).with_for_update()).all()
    for endpoint in endpoints:
        endpoint.secret = secret_box.reseal(endpoint.secret)
        endpoint.previous_secret = secret_box.reseal(endpoint.previous_secret)
    db.session.commit()
    click.echo(f"resealed the secrets of {len(endpoints)} webhooks")
