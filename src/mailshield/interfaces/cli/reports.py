"""``mailshield reports``: import, quarantine, reprocess, summary, ready-to-enforce, prune.

Storage and the renderers are imported inside the commands so that other commands start
without loading them, and ``import`` can fork its parser processes before SQLAlchemy loads.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from mailshield.interfaces.cli.context import settings_from
from mailshield.interfaces.cli.report_files import ReportFile, find_report_files
from mailshield.interfaces.cli.report_import import IN_FLIGHT, ParseAhead, import_files, start_pool
from mailshield.services.ingest_model import IngestOptions
from mailshield.services.ingest_settings import ImportSettings, quick_import_settings
from mailshield.storage.sqlite_plain import file_of_url

if TYPE_CHECKING:
    from mailshield.core.analysis.readiness import Readiness
    from mailshield.core.analysis.summary import TlsRptSummary
    from mailshield.core.model import Report
    from mailshield.services.ingest import IngestOutcome, ReportIntake
    from mailshield.services.report_analysis import ReportAnalysis
    from mailshield.services.settings import Settings
    from mailshield.storage.database import Database
    from mailshield.storage.reports import RawRecord, ReportStore

T = TypeVar("T")


@click.group()
def reports() -> None:
    """Receive and analyse SMTP TLS reports (RFC 8460)."""


def _run(
    ctx: click.Context,
    action: Callable[[Database, Settings], Awaitable[T]],
    settings: Settings | None = None,
) -> T:
    """Run ``action`` on the configured database once its schema is current.

    A database at the head, or an empty one with auto-migrate on (created in one step), is
    checked without Alembic; anything else goes through the migrations as for ``serve``.
    """
    from mailshield.interfaces.cli.db import run_with_database
    from mailshield.storage.migrate_fast import ensure_current

    settings = settings or settings_from(ctx)

    async def run(db: Database) -> T:
        if not await ensure_current(db, create=settings.auto_migrate):
            from mailshield.interfaces.cli.serve import ensure_schema

            await ensure_schema(db, auto_migrate=settings.auto_migrate)
        return await action(db, settings)

    return run_with_database(settings.effective_database_url, run)


def _options(settings: Settings | ImportSettings) -> IngestOptions:
    return IngestOptions.for_max_bytes(settings.report_max_bytes, batch_size=IN_FLIGHT)


def _intake(db: Database, settings: Settings) -> ReportIntake:
    from mailshield.services.ingest import ReportIntake
    from mailshield.storage.report_queries import DomainsTable
    from mailshield.storage.reports import ReportStore

    return ReportIntake(ReportStore(db), DomainsTable(db), _options(settings))


def _analysis(db: Database) -> ReportAnalysis:
    from mailshield.services.report_analysis import ReportAnalysis
    from mailshield.storage.report_queries import ReportQueries

    return ReportAnalysis(ReportQueries(db))


@reports.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, quiet: bool) -> None:
    """Import reports from PATHS: .json, .json.gz, .eml, mbox files, folders (recursive).

    Files are not held to the domain gate of the network receivers. Prints how many reports
    were stored, were duplicates, were quarantined, and how many files were skipped.
    """
    files = list(find_report_files(paths))
    # The workers fork first and start on the default options (SQLite, default size cap), so
    # they parse while this process reads the settings; a different configuration restarts
    # them (ParseAhead.confirm).
    pool = start_pool(files)
    guess = IngestOptions.for_max_bytes(IngestOptions().max_bytes, batch_size=IN_FLIGHT)
    ahead = None if pool is None else ParseAhead(pool, files, guess, prepare=True)
    try:
        settings = _import_settings(ctx)
        if ahead is not None:
            sqlite = settings.effective_database_url.startswith("sqlite")
            ahead.confirm(_options(settings), prepare=sqlite)
        totals = _import(ctx, settings, files, ahead, quiet or as_json)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if as_json:
        click.echo(json.dumps(dict(sorted(totals.items()))))
    else:
        shown = ("stored", "duplicate", "quarantined", "too_large", "failed", "skipped")
        click.echo(", ".join(f"{totals[k]} {k}" for k in shown if totals[k] or k in shown[:3]))
    ctx.exit(1 if totals["failed"] else 0)


def _import_settings(ctx: click.Context) -> ImportSettings | Settings:
    """The import's settings, read without pydantic when the environment is plain enough
    (:func:`~mailshield.services.ingest_settings.quick_import_settings`), else ``Settings``."""
    config = (ctx.find_root().obj or {}).get("config")
    return quick_import_settings(os.environ, config) or settings_from(ctx)


def _import(
    ctx: click.Context,
    settings: ImportSettings | Settings,
    files: list[ReportFile],
    ahead: ParseAhead | None,
    quiet: bool,
) -> Counter[str]:
    """Import ``files``: a pooled import into a SQLite file at the head goes the plain way
    (no SQLAlchemy); the rest, and what the plain way leaves, goes through the intake."""
    path = file_of_url(settings.effective_database_url)
    done = None
    if ahead is not None and path is not None:
        from mailshield.interfaces.cli.report_import_plain import import_plain

        reports = sum(1 for file in files if file.kind == "report")
        done = import_plain(path, ahead, create=settings.auto_migrate, quiet=quiet, files=reports)
    if done is not None:
        files = [file for file in files if file.kind != "report"]
        ahead = None if ahead is None or ahead.done else ahead  # the intake takes the rest
        if not files and not done.rest and ahead is None:
            return done.totals

    async def action(db: Database, settings: Settings) -> Counter[str]:
        intake = _intake(db, settings)
        try:
            rest = None if done is None else done.rest
            return await import_files(intake, files, quiet, ahead, rest)
        finally:
            await intake.aclose()

    full = settings_from(ctx) if isinstance(settings, ImportSettings) else settings
    totals = _run(ctx, action, full)
    return totals if done is None else done.totals + totals


@reports.command()
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def quarantine(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List reports kept in quarantine: id, channel, source, reason."""
    from mailshield.storage.reports import ReportStore

    async def action(db: Database, settings: Settings) -> list[RawRecord]:
        return await ReportStore(db).quarantined(limit)

    entries = _run(ctx, action)
    from mailshield.interfaces.cli.report_render import print_quarantine

    print_quarantine(entries, as_json)


@reports.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Reprocess every quarantined report.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per report.")
@click.pass_context
def reprocess(ctx: click.Context, ids: tuple[int, ...], everything: bool, as_json: bool) -> None:
    """Parse quarantined reports again (IDS from `reports quarantine`, or --all)."""
    if bool(ids) == everything:
        raise click.UsageError("give quarantined report IDS or --all")

    async def action(db: Database, settings: Settings) -> list[tuple[int, IngestOutcome]]:
        from mailshield.storage.reports import ReportStore

        intake = _intake(db, settings)
        try:
            targets = list(ids) or [e.id for e in await _all_quarantined(ReportStore(db))]
            return [(raw_id, await intake.reprocess(raw_id)) for raw_id in targets]
        finally:
            await intake.aclose()

    results = _run(ctx, action)
    for raw_id, outcome in results:
        if as_json:
            click.echo(json.dumps({"id": raw_id} | outcome.to_dict()))
        else:
            click.echo(
                f"{raw_id}: {outcome.disposition.value} {outcome.reason or ''} {outcome.detail}"
            )
    totals = Counter(outcome.disposition.value for _, outcome in results)
    if not as_json:
        click.echo(", ".join(f"{n} {k}" for k, n in sorted(totals.items())) or "nothing to do")


async def _all_quarantined(store: ReportStore) -> list[RawRecord]:
    found: list[RawRecord] = []
    while True:
        page = await store.quarantined(1000, after=found[-1].id if found else 0)
        found += page
        if len(page) < 1000:
            return found


@reports.command()
@click.argument("domain")
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def summary(ctx: click.Context, domain: str, days: int, as_json: bool) -> None:
    """Sessions, failure rate per day and the failures of DOMAIN, with the top problems."""

    async def action(db: Database, settings: Settings) -> TlsRptSummary:
        return await _analysis(db).summary(domain, days)

    result = _run(ctx, action)
    from mailshield.interfaces.cli.report_render import print_summary

    print_summary(result, as_json)


@reports.command()
@click.argument("domain")
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True)
@click.option(
    "--max-failure-rate",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="Share of failed sessions that blocks enforce.",
)
@click.option("--live", is_flag=True, help="Also run a live check of DOMAIN and combine both.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ready(
    ctx: click.Context, domain: str, days: int, max_failure_rate: float, live: bool, as_json: bool
) -> None:
    """Whether DOMAIN can move to mode: enforce, and what blocks it (exit 0 ready, 1 not)."""
    from mailshield.core.analysis.readiness import ReadinessCriteria

    criteria = ReadinessCriteria(days=days, max_failure_rate=max_failure_rate)

    async def action(db: Database, settings: Settings) -> Readiness:
        report = await _live_check(settings, domain) if live else None
        return await _analysis(db).readiness(domain, criteria, report)

    verdict = _run(ctx, action)
    from mailshield.interfaces.cli.report_render import print_readiness

    ctx.exit(print_readiness(verdict, as_json))


async def _live_check(settings: Settings, domain: str) -> Report:
    from mailshield.core.names import to_alabel
    from mailshield.interfaces.assembly import build_checker

    return await build_checker(settings).check(to_alabel(domain))


@reports.command()
@click.option(
    "--days", type=click.IntRange(0, 100_000), help="Keep this many days (default: setting)."
)
@click.pass_context
def prune(ctx: click.Context, days: int | None) -> None:
    """Delete raw reports older than report_retention_days (normalised rows stay)."""
    from mailshield.services.report_analysis import prune_raw_reports
    from mailshield.storage.reports import ReportStore

    async def action(db: Database, settings: Settings) -> int:
        keep = settings.report_retention_days if days is None else days
        return await prune_raw_reports(ReportStore(db), keep)

    click.echo(f"{_run(ctx, action)} raw reports deleted")
