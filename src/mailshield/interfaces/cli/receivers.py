"""``mailshield smtp-receiver`` and ``mailshield imap-poll``: TLS reports by e-mail.

Both refuse to start on a database whose schema is behind (as ``serve`` does) and keep running
through single bad messages; storage and network modules are imported inside the commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import TYPE_CHECKING

import click

from mailshield.interfaces.cli.context import settings_from

if TYPE_CHECKING:
    from mailshield.interfaces.receivers.imap import ImapError
    from mailshield.services.imap_poll import PollSummary
    from mailshield.services.settings import Settings


def _check_schema(settings: Settings) -> None:
    from mailshield.interfaces.cli.db import run_with_database
    from mailshield.interfaces.cli.serve import ensure_schema

    run_with_database(
        settings.effective_database_url,
        lambda db: ensure_schema(db, auto_migrate=settings.auto_migrate),
    )


def _stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM end the command cleanly (pending writes are drained first)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)


@click.command("smtp-receiver")
@click.option("--listen", help="Listen address (MAILSHIELD_SMTP_RECEIVER_LISTEN).")
@click.option("--port", type=int, help="Listen port (MAILSHIELD_SMTP_RECEIVER_PORT).")
@click.pass_context
def smtp_receiver(ctx: click.Context, listen: str | None, port: int | None) -> None:
    """Receive TLS reports by SMTP (rua=mailto:) until stopped."""
    from mailshield.interfaces.receivers.wiring import run_smtp_receiver

    settings = settings_from(ctx, smtp_receiver_listen=listen, smtp_receiver_port=port)
    _check_schema(settings)

    def ready(address: tuple[str, int]) -> None:
        click.echo(f"smtp-receiver listening on {address[0]}:{address[1]}", err=True)

    async def run() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await run_smtp_receiver(settings, stop, ready)

    try:
        asyncio.run(run())
    except OSError as exc:
        raise click.ClickException(f"cannot listen: {exc}") from exc


@click.command("imap-poll")
@click.option("--once", is_flag=True, help="Poll one time and exit (for cron).")
@click.option(
    "--interval", type=float, default=300.0, show_default=True, help="Seconds between polls."
)
@click.option("--json", "as_json", is_flag=True, help="Print each poll's summary as JSON.")
@click.pass_context
def imap_poll(ctx: click.Context, once: bool, interval: float, as_json: bool) -> None:
    """Fetch TLS reports from an IMAP mailbox (imap_* settings); exit 1 if the last poll failed."""
    from mailshield.interfaces.receivers.wiring import run_imap_poll

    settings = settings_from(ctx)
    if not settings.imap_host:
        raise click.UsageError("set imap_host (MAILSHIELD_IMAP_HOST) to the IMAPS server to poll")
    _check_schema(settings)

    def report(result: PollSummary | ImapError) -> None:
        click.echo(_describe(result, as_json), err=not as_json)

    async def run() -> bool:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        return await run_imap_poll(
            settings, once=once, interval=interval, stop=stop, on_poll=report
        )

    if not asyncio.run(run()):
        ctx.exit(1)


def _describe(result: PollSummary | ImapError, as_json: bool) -> str:
    from mailshield.services.imap_poll import PollSummary

    if not isinstance(result, PollSummary):
        return json.dumps({"error": str(result)}) if as_json else f"poll failed: {result}"
    if as_json:
        return json.dumps(result.to_dict(), sort_keys=True)
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(result.verdicts.items())) or "nothing new"
    moved = ", ".join(f"{n} to {folder}" for folder, n in sorted(result.moved.items()))
    return f"polled: {verdicts}" + (f"; moved {moved}" if moved else "")
