"""The ``mailshield`` command: one group, one module per sub-command family."""

from __future__ import annotations

from pathlib import Path

import click

from mailshield import __version__
from mailshield.interfaces.cli import (
    check,
    codes,
    db,
    domains,
    lab,
    policy_server,
    receivers,
    reports,
    serve,
    worker,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mailshield")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MAILSHIELD_CONFIG",
    help="TOML configuration file (MAILSHIELD_* variables override it).",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """MailShield: inbound email transport security (MTA-STS, TLS-RPT, STARTTLS, DANE, …)."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


cli.add_command(serve.serve)
cli.add_command(db.db)
cli.add_command(lab.lab)
cli.add_command(codes.codes)
cli.add_command(check.check)
cli.add_command(domains.domains)
cli.add_command(reports.reports)
cli.add_command(receivers.smtp_receiver)
cli.add_command(receivers.imap_poll)
cli.add_command(policy_server.policy_server)
cli.add_command(worker.worker)


def main() -> None:
    cli(prog_name="mailshield")
