"""``mailshield serve``: the dashboard, the JSON API and the report receivers in one process.

Serving refuses to start on a database whose schema is behind the code, naming the command
that fixes it, unless ``auto_migrate`` is set, in which case pending migrations run first.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click
import uvicorn

from mailshield.interfaces.cli.context import settings_from
from mailshield.interfaces.cli.db import run_with_database

if TYPE_CHECKING:
    from mailshield.services.settings import Settings
    from mailshield.storage.database import Database
    from mailshield.storage.migrate import SchemaStatus


async def ensure_schema(db: Database, *, auto_migrate: bool) -> SchemaStatus:
    """Return the status once the schema is current; migrate first if allowed; else fail."""
    from mailshield.storage.migrate import schema_status, upgrade

    status = await schema_status(db)
    if status.behind and auto_migrate:
        click.echo(f"applying migrations: {status.current or 'none'} -> {status.head}", err=True)
        status = await upgrade(db)
    if status.up_to_date:
        return status
    if not status.known:
        raise click.ClickException(f"{status.describe()}: run a MailShield version that knows it")
    raise click.ClickException(
        f"the database schema is behind this MailShield version (at revision "
        f"{status.current or 'none'}, latest {status.head}). Run `mailshield db upgrade` "
        "(or set MAILSHIELD_AUTO_MIGRATE=true) and start again."
    )


@click.command()
@click.option("--host", help="Listen address (MAILSHIELD_HOST).")
@click.option("--port", type=int, help="Listen port (MAILSHIELD_PORT).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the web dashboard and JSON API."""
    from mailshield.interfaces.api.app import create_app

    settings = settings_from(ctx, host=host, port=port)
    run_with_database(
        settings.effective_database_url,
        lambda db: ensure_schema(db, auto_migrate=settings.auto_migrate),
    )
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, log_level="info"
    )
    asyncio.run(_serve(uvicorn.Server(config), settings))


async def _serve(server: uvicorn.Server, settings: Settings) -> None:
    """The web server, with the periodic jobs beside it unless a separate worker runs them."""
    if not settings.embedded_worker:
        await server.serve()
        return
    from mailshield.interfaces.worker import build_scheduler
    from mailshield.storage.database import Database

    stop = asyncio.Event()
    async with Database(settings.effective_database_url) as db:
        jobs = asyncio.create_task(build_scheduler(settings, db).run_forever(stop))
        try:
            await server.serve()
        finally:
            stop.set()
            await jobs
