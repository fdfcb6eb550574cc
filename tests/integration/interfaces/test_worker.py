"""`mailshield worker --once`: runs the due periodic jobs, and not again before their time."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailshield.interfaces.cli.main import cli


def test_worker_once_runs_due_jobs_then_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pass runs every job on a fresh database; the second finds none due."""
    monkeypatch.setenv("MAILSHIELD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAILSHIELD_AUTO_MIGRATE", "true")
    monkeypatch.setenv("MAILSHIELD_RESOLVERS", "127.0.4.99:53")  # never asked: no domains yet
    runner = CliRunner()
    first = runner.invoke(cli, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "hosting-verify" in first.output
    assert "checks-recheck" in first.output
    assert "reports-retention" in first.output
    second = runner.invoke(cli, ["worker", "--once"])
    assert second.exit_code == 0, second.output
    assert "nothing was due" in second.output
