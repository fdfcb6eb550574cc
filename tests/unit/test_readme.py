"""The README stays true: every setting is documented, every documented command exists."""

import re
from pathlib import Path

from click.testing import CliRunner

from mailshield.interfaces.cli.main import cli
from mailshield.services.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    """Each field of Settings has a row in the README's configuration table."""
    missing = [name for name in Settings.model_fields if f"| `{name}` |" not in README]
    assert missing == []


def test_every_documented_subcommand_exists() -> None:
    """Each `mailshield <command>` the README shows answers --help."""
    commands = sorted(set(re.findall(r"mailshield ([a-z][a-z-]+)", README)) - {"toml"})
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(cli, [command, "--help"])
        assert result.exit_code == 0, f"mailshield {command}: {result.output}"
