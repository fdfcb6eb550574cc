"""``mailshield db``: schema status, upgrade and downgrade, and new revision files.

Storage (SQLAlchemy, Alembic) is imported inside the commands so that other commands start
without loading it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from mailshield.interfaces.cli.context import settings_from

if TYPE_CHECKING:
    from mailshield.storage.database import Database
    from mailshield.storage.migrate import SchemaStatus

T = TypeVar("T")


def run_with_database(url: str, action: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``action`` on a database opened from ``url``; database errors become CLI errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from mailshield.storage.database import Database

    async def run() -> T:
        async with Database(url) as db:
            try:
                return await action(db)
            except (SQLAlchemyError, OSError) as exc:
                raise click.ClickException(f"database {db.display_url}: {exc}") from exc

    return asyncio.run(run())


def _status(ctx: click.Context) -> SchemaStatus:
    from mailshield.storage.migrate import schema_status

    return run_with_database(settings_from(ctx).effective_database_url, schema_status)


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the applied schema revision and the latest one."""
    current = _status(ctx)
    if as_json:
        fields = {"current": current.current, "head": current.head}
        flags = {"up_to_date": current.up_to_date, "known": current.known}
        click.echo(json.dumps(fields | flags))
        return
    click.echo(f"current: {current.current or 'none (empty database)'}")
    click.echo(f"head:    {current.head}")
    click.echo(current.describe())


@db.command()
@click.argument("revision", default="head")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Apply pending migrations (up to REVISION, default: the latest)."""
    from mailshield.storage import migrate

    before = _status(ctx)
    if not before.known:
        raise click.ClickException(before.describe())
    if before.up_to_date and revision == "head":
        click.echo(before.describe())
        return
    url = settings_from(ctx).effective_database_url
    after = run_with_database(url, lambda db: migrate.upgrade(db, revision))
    click.echo(f"upgraded: {before.current or 'none'} -> {after.current}")


@db.command()
@click.argument("revision")
@click.confirmation_option(prompt="Downgrading drops tables and their data. Continue?")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes every table)."""
    from mailshield.storage import migrate

    url = settings_from(ctx).effective_database_url
    after = run_with_database(url, lambda db: migrate.downgrade(db, revision))
    click.echo(f"downgraded to {after.current or 'base'}")


@db.command()
@click.option("-m", "--message", required=True, help="What the revision changes.")
def revision(message: str) -> None:
    """Create an empty, numbered migration file after the latest (for developers)."""
    from mailshield.storage.migrate import new_revision

    click.echo(str(new_revision(message)))
