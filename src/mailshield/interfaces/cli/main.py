"""The ``mailshield`` command: one group, one module per sub-command family."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from mailshield import __version__

# Sub-commands are imported when used, so `mailshield check` does not pay for the dashboard,
# the policy server or the report pipeline.
COMMANDS = {
    "serve": "serve:serve",
    "db": "db:db",
    "lab": "lab:lab",
    "codes": "codes:codes",
    "check": "check:check",
    "domains": "domains:domains",
    "reports": "reports:reports",
    "smtp-receiver": "receivers:smtp_receiver",
    "imap-poll": "receivers:imap_poll",
    "policy-server": "policy_server:policy_server",
    "worker": "worker:worker",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module, attribute = spec.split(":")
        command = getattr(importlib.import_module(f"mailshield.interfaces.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli(prog_name="mailshield")
