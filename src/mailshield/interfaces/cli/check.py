"""``mailshield check``: one domain, or a list of a million, from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from mailshield.core.model import Report
from mailshield.core.names import InvalidName, to_alabel
from mailshield.interfaces.cli.check_exit import EXIT_INTERRUPTED, exit_code
from mailshield.interfaces.cli.context import check_settings_from
from mailshield.interfaces.cli.render import (
    csv_header,
    csv_row,
    csv_text,
    print_report,
    report_json,
)

if TYPE_CHECKING:
    from mailshield.services.check_settings import CheckSettings
    from mailshield.services.checker import Checker

FORMATS = ("text", "json", "jsonl", "csv")


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
    "--concurrency",
    type=click.IntRange(1, 10000),
    help="Domains checked at once (bulk; in total, shared by the workers).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Worker processes for a bulk list (default: one per CPU; 1 for short lists).",
)
@click.option("--no-smtp", is_flag=True, help="Do not connect to MX hosts (STARTTLS not tested).")
@click.option(
    "--smtp-per-address",
    type=click.IntRange(1, 1000),
    help="SMTP connections at once to one MX address (bulk: in total, shared by the workers).",
)
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
    workers: int | None,
    no_smtp: bool,
    smtp_per_address: int | None,
    selectors: tuple[str, ...],
    ca_bundle: Path | None,
    allow_private: bool,
    smtp_port: int | None,
    verbose: bool,
) -> None:
    """Check DOMAIN's inbound email security, or every domain of --file."""
    if (domain is None) == (domains_file is None):
        raise click.UsageError("give either a DOMAIN or --file FILE")
    settings = check_settings_from(
        ctx,
        resolvers=list(resolvers) or None,
        check_timeout=timeout,
        dnssec_validation=dnssec_validation,
        concurrency=concurrency,
        smtp_probe=False if no_smtp else None,
        smtp_per_address=smtp_per_address,
        ca_bundle=ca_bundle,
        allow_private=True if allow_private else None,
        smtp_port=smtp_port,
    )
    fmt = "json" if as_json else fmt or _format_for(output, bulk=domains_file is not None)
    if domain is not None:
        from mailshield.interfaces.assembly import build_checker  # heavy: only when checking

        checker = build_checker(settings, dkim_selectors=selectors)
        ctx.exit(_check_one(checker, _alabel_or_usage(domain), fmt, output, verbose, settings))
    assert domains_file is not None
    ctx.exit(_check_file(settings, selectors, domains_file, fmt, output, workers))


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


def _check_one(
    checker: Checker,
    domain: str,
    fmt: str,
    output: Path | None,
    verbose: bool,
    settings: CheckSettings,
) -> int:
    from mailshield.services.event_loop import run

    try:
        report = run(checker.check(domain), choice=settings.event_loop)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    if fmt == "text" and output is None:
        print_report(Console(), report, verbose=verbose)
    else:
        text = _render(report, fmt)
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
    return exit_code(report.status)


def _render(report: Report, fmt: str) -> str:
    """``report`` in ``fmt`` (CSV: the header and its row)."""
    if fmt == "csv":
        return csv_text([csv_header(), csv_row(report)])
    if fmt == "jsonl":
        return report_json(report, indent=None) + "\n"
    return report_json(report) + "\n"


def _check_file(
    settings: CheckSettings,
    selectors: tuple[str, ...],
    path: Path,
    fmt: str,
    output: Path | None,
    workers: int | None,
) -> int:
    from mailshield.interfaces.cli.check_bulk import check_file
    from mailshield.interfaces.cli.check_job import RenderedCheck

    job = RenderedCheck(settings, selectors, "csv" if fmt == "csv" else "jsonl")
    return check_file(
        job,
        path,
        output,
        concurrency=settings.concurrency,
        workers=workers,
        event_loop=settings.event_loop,
    )
