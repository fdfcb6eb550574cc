"""Terminal and JSON output of ``mailshield reports``: summary, verdict, quarantine."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from mailshield.core.analysis.readiness import Readiness
from mailshield.core.analysis.summary import Count, TlsRptSummary

if TYPE_CHECKING:  # storage pulls in SQLAlchemy: about a second on every `mailshield` start
    from mailshield.storage.reports import RawRecord

__all__ = ["print_quarantine", "print_readiness", "print_summary"]


def print_summary(summary: TlsRptSummary, as_json: bool) -> None:
    """The summary as JSON, or as tables followed by the top problems."""
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{summary.domain}[/] {summary.since} – {summary.until}: {summary.reports} reports, "
        f"{summary.successful + summary.failed} sessions, {summary.failure_rate:.2%} failed"
    )
    quiet = sum(1 for row in summary.days if not row.reports)
    title = f"Per day ({quiet} days without reports not shown)" if quiet else "Per day"
    days = Table("day", "reports", "successful", "failed", "failure rate", title=title)
    for row in (row for row in summary.days if row.reports):
        days.add_row(
            row.day.isoformat(),
            str(row.reports),
            str(row.successful),
            str(row.failed),
            f"{row.failure_rate:.2%}",
        )
    console.print(days)
    organizations = Table("organization", "reports", "successful", "failed", title="By reporter")
    for org in summary.by_organization:
        organizations.add_row(
            org.organization, str(org.reports), str(org.successful), str(org.failed)
        )
    console.print(organizations)
    console.print(_counts("Failures by result type", "result type", summary.by_result_type))
    mx = Table("receiving MX", "failed sessions", "last failure", "result types", title="By MX")
    for item in summary.by_mx:
        mx.add_row(
            item.mx, str(item.failed), item.last_failure.isoformat(), ", ".join(item.result_types)
        )
    console.print(mx)
    console.print(_counts("Failures by sending IP", "sending IP", summary.by_sending_ip))
    _print_problems(console, summary)


def _counts(title: str, heading: str, rows: Sequence[Count]) -> Table:
    table = Table(heading, "failed sessions", title=title)
    for row in rows:
        table.add_row(row.key, str(row.failed))
    return table


def _print_problems(console: Console, summary: TlsRptSummary) -> None:
    if not summary.problems:
        console.print("No failures reported." if summary.reports else "No reports in this window.")
        return
    console.print("[bold]Top problems[/]")
    for number, problem in enumerate(summary.problems, 1):
        console.print(
            f"{number}. {problem.headline} [dim]({problem.failed_sessions} sessions, "
            f"{', '.join(problem.organizations)})[/]",
            markup=True,
            highlight=False,
        )


def print_readiness(verdict: Readiness, as_json: bool) -> int:
    """Print the verdict; return the exit code (0 ready, 1 blocked)."""
    if as_json:
        click.echo(json.dumps(verdict.to_dict(), indent=2))
    else:
        if verdict.ready:
            click.echo(verdict.describe())
        else:
            click.echo(f"{verdict.domain} is not ready for mode: enforce")
        for blocker in verdict.blockers:
            click.echo(f"  ✗ {blocker.message}  [{blocker.code}]")
            if blocker.fix:
                click.echo(f"      fix: {blocker.fix}")
    return 0 if verdict.ready else 1


def print_quarantine(entries: Sequence[RawRecord], as_json: bool) -> None:
    """Quarantined arrivals: id, when, channel, source, reason, detail."""
    if as_json:
        for entry in entries:
            click.echo(
                json.dumps(
                    {
                        "id": entry.id,
                        "received-at": entry.received_at.isoformat(),
                        "channel": entry.channel,
                        "kind": entry.kind,
                        "source": entry.source,
                        "size": entry.size,
                        "copies": entry.copies,
                        "reason": entry.reason,
                        "detail": entry.detail,
                    }
                )
            )
        return
    if not entries:
        click.echo("quarantine is empty")
        return
    table = Table("id", "received", "channel", "source", "reason", "detail", title="Quarantine")
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.received_at.strftime("%Y-%m-%d %H:%M"),
            entry.channel,
            entry.source or "",
            entry.reason or "",
            entry.detail or "",
        )
    Console().print(table)
