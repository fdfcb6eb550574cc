"""``mailshield db``: status, upgrade and downgrade from the command line, on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailshield.interfaces.cli.main import cli
from mailshield.storage.migrate import head_revision


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command uses a SQLite file in a private data folder."""
    monkeypatch.delenv("MAILSHIELD_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAILSHIELD_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def mailshield(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def status() -> dict[str, object]:
    result = mailshield("db", "status", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_status_of_an_empty_database() -> None:
    """An empty database has no revision and is not up to date."""
    assert status() == {
        "current": None,
        "head": head_revision(),
        "up_to_date": False,
        "known": True,
    }


def test_status_in_words_names_the_fix() -> None:
    """The human status says which command applies the pending migrations."""
    result = mailshield("db", "status")
    assert result.exit_code == 0
    assert "mailshield db upgrade" in result.output


def test_upgrade_reaches_head(data_dir: Path) -> None:
    """`db upgrade` applies every migration into the SQLite file in the data folder."""
    result = mailshield("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"-> {head_revision()}" in result.output
    assert (data_dir / "mailshield.db").is_file()
    assert status()["up_to_date"] is True


def test_upgrade_when_current_says_so() -> None:
    """A second upgrade reports that nothing was pending."""
    mailshield("db", "upgrade")
    result = mailshield("db", "upgrade")
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_downgrade_to_base_asks_first() -> None:
    """Downgrading needs a confirmation; declining changes nothing."""
    mailshield("db", "upgrade")
    declined = mailshield("db", "downgrade", "base", stdin="n\\n")
    assert declined.exit_code == 1
    assert status()["current"] == head_revision()
    accepted = mailshield("db", "downgrade", "base", "--yes")
    assert accepted.exit_code == 0, accepted.output
    assert status()["current"] is None


def test_unreachable_database_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that does not answer gives exit code 1 and a message naming it."""
    monkeypatch.setenv(
        "MAILSHIELD_DATABASE_URL", "postgresql+asyncpg://nobody:secret@127.0.0.1:1/x"
    )
    result = mailshield("db", "status")
    assert result.exit_code == 1
    assert "127.0.0.1:1" in result.output
    assert "secret" not in result.output
