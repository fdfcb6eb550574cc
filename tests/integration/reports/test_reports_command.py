"""``mailshield reports`` through click's runner on a SQLite file: import to verdict."""

from __future__ import annotations

import json
import mailbox
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailshield.interfaces.cli.main import cli

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Invoke ``mailshield`` with a private, auto-migrated data folder."""
    env = {"MAILSHIELD_DATA_DIR": str(tmp_path / "data"), "MAILSHIELD_AUTO_MIGRATE": "true"}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A folder with the corpus, a nested folder, an mbox of two messages and a note."""
    folder = tmp_path / "inbox"
    shutil.copytree(CORPUS, folder / "corpus")
    box = mailbox.mbox(folder / "archive.mbox")
    for name in ("google.eml", "plain-body.eml"):
        box.add((CORPUS / name).read_bytes())
    box.close()
    (folder / ".hidden.json").write_text("{}")
    return folder


def test_import_counts_every_outcome(run, inbox: Path) -> None:  # type: ignore[no-untyped-def]
    """Stored, duplicate, quarantined and skipped files are all counted, nothing silently."""
    result = run("reports", "import", "--json", str(inbox))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "duplicate": 8,
        "quarantined": 6,
        "skipped": 1,
        "stored": 7,
    }


def test_import_twice_stores_nothing_new(run, inbox: Path) -> None:  # type: ignore[no-untyped-def]
    """A second import of the same files finds only copies and known quarantined bytes."""
    run("reports", "import", "--quiet", str(inbox / "corpus"))
    result = run("reports", "import", "--quiet", str(inbox / "corpus"))
    assert result.stdout.strip().startswith("0 stored")


def test_quarantine_then_reprocess(run, inbox: Path) -> None:  # type: ignore[no-untyped-def]
    """Quarantined reports are listed with reasons; reprocessing leaves them with the reason."""
    run("reports", "import", "--quiet", str(inbox / "corpus"))
    listed = [
        json.loads(line) for line in run("reports", "quarantine", "--json").stdout.splitlines()
    ]
    assert {entry["reason"] for entry in listed} == {
        "bad_gzip", "bad_json", "missing_report_id", "not_utf8", "wrong_schema",
    }  # fmt: skip
    result = run("reports", "reprocess", "--all")
    assert result.stdout.strip().endswith("6 quarantined")


def test_summary_json(run, inbox: Path) -> None:  # type: ignore[no-untyped-def]
    """The JSON summary has the counted sessions of the imported reports."""
    run("reports", "import", "--quiet", str(inbox / "corpus" / "conformant.json"))
    result = run("reports", "summary", "example.com", "--days", "3660", "--json")
    data = json.loads(result.stdout)
    assert (data["reports"], data["successful-sessions"], data["failed-sessions"]) == (1, 4210, 17)
    assert data["problems"][0]["subject"] == "mx2.example.com"


def test_ready_exit_codes(run, inbox: Path) -> None:  # type: ignore[no-untyped-def]
    """Exit 1 with the blockers named when not ready."""
    run("reports", "import", "--quiet", str(inbox / "corpus" / "conformant.json"))
    result = run("reports", "ready", "example.com", "--days", "3660")
    assert result.exit_code == 1
    assert "mx2.example.com still fails" in result.output
