"""Flask commands: seed-demo, create-user (more are added by other modules)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from partnership_api import audit
from partnership_api.events.cli import deliver_command, events_group
from partnership_api.extensions import db
from partnership_api.models.partnership import ROLES, Organisation


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_demo_year_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_password_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(purge_expired_command)
    app.cli.add_command(deliver_command)
    app.cli.add_command(events_group)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no organisation yet.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo partnership (refused in production)."""
    from partnership_api.demo import seed_demo

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-demo is refused when APP_ENV=production.")
    if if_empty and db.session.scalar(sa.select(sa.func.count(Organisation.id))):
        click.echo("The database already has a partnership; demo data not loaded.")
        return
    generated = seed_demo(current_app.config.get("DEMO_PASSWORD"))
    click.echo("Demo partnership ready.")
    if generated:
        _keep_demo_password(generated)
        click.echo(f"Demo users' password: {generated}")
        click.echo("(Again: `make demo-password`; a new one: `make demo-password RESET=1`.)")


@click.command("seed-demo-year")
@click.argument("year", type=click.IntRange(2021, 2100))
@click.option("--households", default=120, show_default=True, type=click.IntRange(1, 5000))
@with_appcontext
def seed_demo_year_command(year: int, households: int) -> None:
    """Add a financial year of refuge referrals, stays and endings to the demo partnership."""
    from partnership_api.demo_safe_accommodation import seed_year

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("seed-demo-year is refused when APP_ENV=production.")
    tally = seed_year(year, households)
    click.echo(f"Added {households} households in {year}-{(year + 1) % 100:02d}: {tally}")


def _demo_password_file() -> Path:
    return Path(current_app.instance_path) / "demo-password"


def _keep_demo_password(password: str) -> None:
    """The generated demo password, kept for this developer in ``instance/demo-password``
    (mode 0600, not in git), as ``instance/jwt-secret`` is: a demo database only."""
    path = _demo_password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(password + "\n")


@click.command("demo-password")
@click.option("--reset", is_flag=True, help="Give every demo user a new password (ends sessions).")
@with_appcontext
def demo_password_command(reset: bool) -> None:
    """Show the demo users' password again, or give them a new one (refused in production)."""
    from partnership_api.demo import reset_demo_password

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("demo-password is refused when APP_ENV=production.")
    if reset:
        password = reset_demo_password(current_app.config.get("DEMO_PASSWORD"))
        _keep_demo_password(password)
        click.echo(f"Demo users' new password: {password}")
        return
    if current_app.config.get("DEMO_PASSWORD"):
        click.echo("The demo password is the DEMO_PASSWORD setting of this environment.")
        return
    path = _demo_password_file()
    if not path.is_file():
        raise click.ClickException(
            "No demo password is kept here: run `make demo-password RESET=1` for a new one."
        )
    click.echo(f"Demo users' password: {path.read_text().strip()}")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--organisation", "organisation_name", required=True, help="Organisation name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--partnership-admin", is_flag=True)
@click.password_option()
@with_appcontext
def create_user_command(
    username: str, organisation_name: str, role: str, partnership_admin: bool, password: str
) -> None:
    """Create a user (for real deployments)."""
    from partnership_api.domain_errors import DomainError
    from partnership_api.services import partnership

    org = partnership.organisation_named(organisation_name)
    if org is None:
        raise click.ClickException(f"No organisation named {organisation_name!r}.")
    if partnership.username_taken(username):
        raise click.ClickException(
            f"The username {username!r} cannot be used: it breaks the rule (lower-case "
            "letters, digits, '.', '_' or '-'; 3 to 80), is taken, or looks like a taken name."
        )
    if len(password) < 12:
        raise click.ClickException("Passwords need at least 12 characters.")
    try:
        partnership.create_user_by_operator(username, org.id, role, partnership_admin, password)
    except DomainError as error:  # e.g. the name was taken a moment ago
        raise click.ClickException(error.message) from None
    click.echo(f"Created {username} ({role}) in {org.name}.")


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check every event's hash and link; name the first broken link (exit status 1)."""
    checked, broken = audit.verify_chain()
    if broken is not None:
        click.echo(
            f"Audit trail broken at event {broken.event_id}: {broken.reason} "
            f"({checked} events before it are intact).",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {checked} events checked.")


@click.command("purge-expired")
@with_appcontext
def purge_expired_command() -> None:
    """Pseudonymise referrals finished longer ago than REFERRAL_RETENTION_DAYS (run daily)."""
    from partnership_api.services import retention

    changed = retention.purge_expired()
    days = current_app.config["REFERRAL_RETENTION_DAYS"]
    click.echo(f"Pseudonymised {changed} referrals finished more than {days} days ago.")
