"""``mailshield worker``: run the periodic jobs (scale-out; ``serve`` runs them embedded too)."""

from __future__ import annotations

import asyncio
import signal

import click

from mailshield.interfaces.cli.context import settings_from


@click.command()
@click.option("--once", is_flag=True, help="Run the jobs that are due, then exit (for cron).")
@click.option("--tick", type=float, default=30.0, show_default=True, help="Seconds between passes.")
@click.pass_context
def worker(ctx: click.Context, once: bool, tick: float) -> None:
    """Run re-checks, DNS verification, certificate renewal and retention on schedule."""
    from mailshield.interfaces.cli.serve import ensure_schema
    from mailshield.interfaces.worker import build_scheduler
    from mailshield.storage.database import Database

    settings = settings_from(ctx)

    async def main() -> None:
        async with Database(settings.effective_database_url) as db:
            await ensure_schema(db, auto_migrate=settings.auto_migrate)
            scheduler = build_scheduler(settings, db)
            if once:
                ran = await scheduler.run_due()
                click.echo(f"ran: {', '.join(ran) or 'nothing was due'}")
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await scheduler.run_forever(stop, tick=tick)

    asyncio.run(main())
