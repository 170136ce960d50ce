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
    from partnership_api.events.delivery import Worker

    worker = Worker(name)
    if once:
        worker.run_once()
        return
    worker.run()
