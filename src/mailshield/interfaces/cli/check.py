"""``mailshield check``: one domain, or a list of a million, from the terminal."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from mailshield.core.model import Report, Status
from mailshield.core.names import InvalidName, to_alabel
from mailshield.interfaces.cli.context import settings_from
from mailshield.interfaces.cli.render import (
    csv_header,
    csv_row,
    csv_text,
    print_report,
    report_json,
)
from mailshield.interfaces.cli.resume import done_domains, drop_partial_line

if TYPE_CHECKING:
    from mailshield.services.checker import Checker

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNTESTED = 0, 1, 2, 3
FORMATS = ("text", "json", "jsonl", "csv")


def exit_code(worst: Status | None) -> int:
    """0 no failures, 1 some fail, 3 could not test (and nothing failed)."""
    if worst is Status.FAIL:
        return EXIT_FAIL
    if worst is Status.ERROR:
        return EXIT_UNTESTED
    return EXIT_OK


@click.command()
@click.argument("domain", required=False)
@click.option(
    "-f",
    "--file",
    "domains_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check every domain in FILE (one per line, # comments).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write results to this file (bulk: streamed and resumable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format (default: text, or from the output file's extension).",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--resolver",
    "resolvers",
    multiple=True,
    metavar="IP[:PORT]",
    help="DNS resolver to use (repeatable). Default: /etc/resolv.conf's.",
)
@click.option("--timeout", type=float, help="Seconds per HTTPS/SMTP probe.")
@click.option(
    "--dnssec-validation",
    type=click.Choice(["auto", "yes", "no"]),
    help="Whether the resolvers validate DNSSEC (default auto: ask the root's DNSKEY).",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 10000), help="Domains checked at once (bulk)."
)
@click.option("--no-smtp", is_flag=True, help="Do not connect to MX hosts (STARTTLS not tested).")
@click.option(
    "--dkim-selector", "selectors", multiple=True, help="DKIM selector to check (repeatable)."
)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra trusted root certificates (PEM), e.g. a lab CA.",
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow probes to contact loopback/private addresses (labs only).",
)
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="SMTP port to probe (labs only).")
@click.option("-v", "--verbose", is_flag=True, help="Show passing checks' details too.")
@click.pass_context
def check(
    ctx: click.Context,
    domain: str | None,
    domains_file: Path | None,
    output: Path | None,
    fmt: str | None,
    as_json: bool,
    resolvers: tuple[str, ...],
    timeout: float | None,
    dnssec_validation: str | None,
    concurrency: int | None,
    no_smtp: bool,
    selectors: tuple[str, ...],
    ca_bundle: Path | None,
    allow_private: bool,
    smtp_port: int | None,
    verbose: bool,
) -> None:
    """Check DOMAIN's inbound email security, or every domain of --file."""
    if (domain is None) == (domains_file is None):
        raise click.UsageError("give either a DOMAIN or --file FILE")
    settings = settings_from(
        ctx,
        resolvers=list(resolvers) or None,
        check_timeout=timeout,
        dnssec_validation=dnssec_validation,
        concurrency=concurrency,
        smtp_probe=False if no_smtp else None,
        ca_bundle=ca_bundle,
        allow_private=True if allow_private else None,
        smtp_port=smtp_port,
    )
    fmt = "json" if as_json else fmt or _format_for(output, bulk=domains_file is not None)
    from mailshield.interfaces.assembly import build_checker  # heavy: only when checking

    checker = build_checker(settings, dkim_selectors=selectors)
    if domain is not None:
        ctx.exit(_check_one(checker, _alabel_or_usage(domain), fmt, output, verbose))
    assert domains_file is not None
    ctx.exit(_check_file(checker, domains_file, fmt, output, settings.concurrency))


def _alabel_or_usage(domain: str) -> str:
    try:
        return to_alabel(domain)
    except InvalidName as exc:
        raise click.UsageError(f"{domain!r} is not a valid domain name: {exc}") from exc


def _format_for(output: Path | None, *, bulk: bool) -> str:
    suffix = output.suffix.lower().lstrip(".") if output else ""
    if suffix in ("json", "jsonl", "csv"):
        return "jsonl" if bulk and suffix == "json" else suffix
    return "jsonl" if bulk and output else "text"


def _check_one(checker: Checker, domain: str, fmt: str, output: Path | None, verbose: bool) -> int:
    report = asyncio.run(checker.check(domain))
    if fmt == "text" and output is None:
        print_report(Console(), report, verbose=verbose)
    else:
        text = _render(report, fmt)
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
    return exit_code(report.status)


def _render(report: Report, fmt: str, *, header: bool = True) -> str:
    """``report`` in ``fmt``; bulk CSV output writes its header once, so rows come without."""
    if fmt == "csv":
        return csv_text([csv_header(), csv_row(report)] if header else [csv_row(report)])
    if fmt == "jsonl":
        return report_json(report, indent=None) + "\n"
    return report_json(report) + "\n"


def read_domains(path: Path) -> Iterator[str]:
    """Domain names from a file, one per line; blank lines and # comments skipped."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            name = line.split("#", 1)[0].strip()
            if name:
                yield name


def _check_file(
    checker: Checker, path: Path, fmt: str, output: Path | None, concurrency: int
) -> int:
    from mailshield.services.bulk import check_many

    if fmt in ("text", "json"):
        fmt = "jsonl"
    if output is not None:
        drop_partial_line(output)  # left by an interrupted run
    done = done_domains(output, fmt) if output else set()
    total = sum(1 for _ in read_domains(path))
    worst: list[Status] = []
    sink: IO[str] = output.open("a", encoding="utf-8") if output else sys.stdout
    if fmt == "csv" and (output is None or output.stat().st_size == 0):
        sink.write(csv_text([csv_header()]))
    console = Console(stderr=True)
    with _progress(console) as progress:
        task = progress.add_task("checking", total=total, completed=len(done))

        def emit(report: Report) -> None:
            sink.write(_render(report, fmt, header=False))
            sink.flush()
            worst.append(report.status)
            progress.advance(task)

        todo = (d for d in _valid_domains(read_domains(path), console) if d not in done)
        asyncio.run(check_many(checker.check, todo, emit, concurrency=concurrency))
    if output is not None:
        sink.close()
    summary = _summary(worst)
    console.print(f"{len(worst)} checked, {len(done)} skipped (already in output). {summary}")
    return exit_code(max(worst, key=lambda s: s.severity) if worst else None)


def _valid_domains(names: Iterator[str], console: Console) -> Iterator[str]:
    for name in names:
        try:
            yield to_alabel(name)
        except InvalidName as exc:
            console.print(f"[yellow]skipping {name!r}: {exc}[/]")


def _summary(statuses: list[Status]) -> str:
    counts = {s: statuses.count(s) for s in (Status.FAIL, Status.ERROR)}
    return f"{counts[Status.FAIL]} with failures, {counts[Status.ERROR]} with untested checks."


class _RateColumn(ProgressColumn):
    """Domains per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} domains/s" if speed else "– domains/s", style="cyan")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
