"""Terminal, JSON, JSON Lines and CSV renderings of a Report."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from mailshield.core.checks import CHECK_TITLES
from mailshield.core.model import CheckResult, Finding, Report, Status

_ICONS = {
    Status.PASS: ("✓", "green"),
    Status.INFO: ("i", "blue"),
    Status.NOT_APPLICABLE: ("–", "dim"),
    Status.WARN: ("!", "yellow"),
    Status.ERROR: ("?", "magenta"),
    Status.FAIL: ("✗", "bold red"),
}
_LABELS = {Status.ERROR: "could not test", Status.NOT_APPLICABLE: "n/a"}
CSV_CHECKS = tuple(CHECK_TITLES)


def _status_text(status: Status) -> Text:
    icon, style = _ICONS[status]
    return Text(f"{icon} {_LABELS.get(status, status.value)}", style=style)


def _finding_block(item: Finding) -> Group:
    icon, style = _ICONS[item.status]
    line = Text.assemble(
        (f"  {icon} ", style), (item.message or item.code, ""), (f"  [{item.code}]", "dim")
    )
    parts: list[Text | Padding] = [line]
    if item.fix and item.status.severity >= Status.WARN.severity:
        parts.append(Padding(Text("Fix: " + item.fix, style="cyan"), (0, 0, 0, 6)))
    return Group(*parts)


def _section(result: CheckResult, verbose: bool) -> Group:
    """A protocol's heading, its findings, and with ``verbose`` the evidence behind them."""
    title = Text.assemble(
        (CHECK_TITLES.get(result.check, result.check), "bold"), "  ", _status_text(result.status)
    )
    parts: list[Group | Text] = [title, *(_finding_block(f) for f in result.findings)]
    if verbose and result.evidence:
        evidence = json.dumps(result.evidence, indent=2, ensure_ascii=False, default=str)
        parts.append(Text("  evidence: " + evidence.replace("\n", "\n  "), style="dim"))
    return Group(*parts, Text(""))


def print_report(console: Console, report: Report, *, verbose: bool = False) -> None:
    """A readable report: score, grade, one section per protocol, each problem with its fix."""
    header = Text.assemble(
        (report.domain, "bold"),
        f"   score {report.score}/100   grade ",
        (report.grade, "bold"),
        f"   checked {report.checked_at:%Y-%m-%d %H:%M} UTC",
    )
    sections = [_section(r, verbose) for r in report.results]
    console.print(Panel(header, expand=False))
    for section in sections:
        console.print(section)
    untested = [
        CHECK_TITLES.get(r.check, r.check) for r in report.results if r.status is Status.ERROR
    ]
    if untested:
        console.print(
            Text("Could not test (left out of the score): " + ", ".join(untested), style="magenta")
        )


def report_json(report: Report, *, indent: int | None = 2) -> str:
    return json.dumps(report.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)


def csv_header() -> list[str]:
    return ["domain", "score", "grade", "status", *CSV_CHECKS, "failures", "untested"]


def csv_row(report: Report) -> list[str]:
    statuses = {r.check: r.status.value for r in report.results}
    failures = sorted({f.code for f in report.findings() if f.status is Status.FAIL})
    untested = sorted({f.code for f in report.findings() if f.status is Status.ERROR})
    return [
        report.domain,
        str(report.score),
        report.grade,
        report.status.value,
        *(statuses.get(c, "") for c in CSV_CHECKS),
        " ".join(failures),
        " ".join(untested),
    ]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
