"""``mailshield serve``: the dashboard, the JSON API and the report receivers.

Serving refuses to start on a database whose schema is behind the code, naming the command
that fixes it, unless ``auto_migrate`` is set, in which case pending migrations run first.

The listening sockets are bound before the application starts, and their address is printed
(``listening on http://127.0.0.1:8080``) once they accept connections; a connection made
before the application is ready waits in the backlog. With ``--workers N`` (N > 1) that many
processes serve the same port (:mod:`~mailshield.interfaces.cli.serve_workers`); the periodic
jobs run in the first one only. Each process runs on uvloop (``event_loop`` setting) with
uvicorn's httptools parser, each answer written at once (:mod:`.serve_http`).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailshield.interfaces.cli.context import settings_from
from mailshield.interfaces.cli.db import run_with_database

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

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


_PEM = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option("--host", help="Listen address (MAILSHIELD_HOST).")
@click.option("--port", type=int, help="Listen port (MAILSHIELD_PORT); 0 picks a free one.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes serving the port (SO_REUSEPORT); the periodic jobs run in one of them.",
)
@click.option("--tls-cert", type=_PEM, help="Serve HTTPS with this certificate chain (PEM).")
@click.option("--tls-key", type=_PEM, help="The private key of --tls-cert (PEM).")
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request (reports are recorded in the database either way).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    access_log: bool,
) -> None:
    """Run the web dashboard, the JSON API and the TLS-RPT HTTPS receiver."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    from mailshield.interfaces.api.app import create_app
    from mailshield.interfaces.cli.serve_workers import ServePlan, listen, run_worker, supervise

    settings = settings_from(ctx, host=host, port=port)
    run_with_database(
        settings.effective_database_url,
        lambda db: ensure_schema(db, auto_migrate=settings.auto_migrate),
    )
    config = server_config(create_app(settings), settings, tls_cert, tls_key, access_log)
    # Loaded here, before any worker is forked, so all share one TLS context and so one set of
    # session-ticket keys: a reporter that reconnects resumes its session on any worker.
    config.load()
    plan = ServePlan(workers=workers, scheme="https" if tls_cert else "http")
    sockets = listen(settings.host, settings.port, plan)
    # What was built so far is shared by every request: keep it out of the collector's scans
    # (and, with workers, out of the copy-on-write pages each process would otherwise touch).
    gc.freeze()
    if workers == 1:
        run_worker(config, settings, sockets[0], jobs=True)
        return
    ctx.exit(supervise(config, settings, sockets))


def server_config(
    app: FastAPI,
    settings: Settings,
    tls_cert: Path | None,
    tls_key: Path | None,
    access_log: bool,
) -> uvicorn.Config:
    """uvicorn's configuration: the httptools protocol with one write per answer
    (:mod:`~mailshield.interfaces.cli.serve_http`), TLS when a certificate is given, the
    access log."""
    import uvicorn

    from mailshield.interfaces.cli.serve_http import HttpProtocol

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=HttpProtocol,
        log_level="info",
        access_log=access_log,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
