"""``mailshield reports import`` of a folder large enough for the worker pool (and so, on a
SQLite file, the plain way without SQLAlchemy): same outcome and same stored rows as the
one-by-one path through the intake."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, NoReturn

import pytest
from click.testing import CliRunner

from mailshield.interfaces.cli import report_import, report_import_plain
from mailshield.interfaces.cli.main import cli
from mailshield.storage import Database
from mailshield.storage.migrate import upgrade
from mailshield.storage.schema_sqlite import applied_revision, shipped_head

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
DISTINCT, COPIES = 300, 20
BROKEN = ("broken-bad-json.json", "broken-truncated.json.gz", "broken-missing-report-id.json")

# Every stored fact except ids and arrival times, keyed by the report's dedupe key.
QUERIES = (
    "SELECT dedupe_key, organization_name, report_id, contact_info, start_at, end_at, day_at,"
    " fingerprint, copies, channels, notes FROM tlsrpt_reports ORDER BY dedupe_key",
    "SELECT r.dedupe_key, p.position, p.policy_type, p.policy_domain, p.policy_strings,"
    " p.mx_hosts, p.successful_sessions, p.failed_sessions FROM tlsrpt_policies p"
    " JOIN tlsrpt_reports r ON r.id = p.report_fk ORDER BY 1, 2",
    "SELECT r.dedupe_key, f.position, f.result_type, f.failed_sessions, f.sending_mta_ip,"
    " f.receiving_mx_hostname, f.receiving_ip, f.failure_reason_code FROM tlsrpt_failures f"
    " JOIN tlsrpt_reports r ON r.id = f.report_fk ORDER BY 1, 2, 3, 5",
    "SELECT r.dedupe_key, w.channel, w.kind, w.source, w.size, w.sha256, w.encoding, w.state,"
    " w.reason, w.copies, w.meta FROM tlsrpt_raw w LEFT JOIN tlsrpt_reports r"
    " ON r.id = w.report_fk ORDER BY w.sha256",
)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Distinct gzip and plain reports, later copies of some of them, and broken files."""
    folder = tmp_path_factory.mktemp("inbox")
    template = json.loads((CORPUS / "google.json").read_text())
    for number in range(DISTINCT):
        document = template | {"report-id": f"bulk-{number:04d}"}
        body = json.dumps(document).encode()
        if number % 3:
            (folder / f"r{number:04d}.json.gz").write_bytes(gzip.compress(body, mtime=0))
        else:
            (folder / f"r{number:04d}.json").write_bytes(body)
    for number in range(COPIES):
        source = next(folder.glob(f"r{number:04d}.json*"))
        shutil.copy(source, folder / f"s{number:04d}{''.join(source.suffixes)}")
    for name in BROKEN:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def run_import(folder: Path, data: Path) -> dict[str, int]:
    env = {"MAILSHIELD_DATA_DIR": str(data), "MAILSHIELD_AUTO_MIGRATE": "true"}
    result = CliRunner().invoke(
        cli, ["reports", "import", "--json", str(folder)], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    totals: dict[str, int] = json.loads(result.stdout)
    return totals


def stored(data: Path) -> list[list[Any]]:
    with sqlite3.connect(data / "mailshield.db") as connection:
        return [connection.execute(query).fetchall() for query in QUERIES]


def test_pool_stores_what_one_by_one_stores(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsed and prepared in worker processes, the reports end up exactly as without them."""
    expected = {"stored": DISTINCT, "duplicate": COPIES, "quarantined": len(BROKEN)}
    assert run_import(inbox, tmp_path / "pooled") == expected
    monkeypatch.setattr(report_import, "POOL_THRESHOLD", 10**9)
    assert run_import(inbox, tmp_path / "alone") == expected
    assert stored(tmp_path / "pooled") == stored(tmp_path / "alone")


def test_pooled_import_twice_counts_copies(inbox: Path, tmp_path: Path) -> None:
    """A second pooled import stores nothing new: every report is a copy, broken bytes too."""
    run_import(inbox, tmp_path / "data")
    again = run_import(inbox, tmp_path / "data")
    assert again == {"duplicate": DISTINCT + COPIES, "quarantined": len(BROKEN)}


def test_database_behind_goes_through_the_migrations(inbox: Path, tmp_path: Path) -> None:
    """A database with pending migrations is migrated first, then imported into as usual."""
    data = tmp_path / "data"

    async def migrate_to_0006() -> None:
        async with Database(f"sqlite+aiosqlite:///{data / 'mailshield.db'}") as db:
            await upgrade(db, "0006")

    asyncio.run(migrate_to_0006())
    expected = {"stored": DISTINCT, "duplicate": COPIES, "quarantined": len(BROKEN)}
    assert run_import(inbox, data) == expected
    with closing(sqlite3.connect(data / "mailshield.db")) as connection:
        assert applied_revision(connection) == (shipped_head(), False)


def test_failed_batch_is_left_to_the_intake(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the plain write of a batch fails, its reports go through the intake instead."""

    failed: list[object] = []

    def fails(connection: sqlite3.Connection, batch: object) -> NoReturn:
        failed.append(batch)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(report_import_plain, "write_batch", fails)
    expected = {"stored": DISTINCT, "duplicate": COPIES, "quarantined": len(BROKEN)}
    assert run_import(inbox, tmp_path / "data") == expected
    assert failed


def test_many_broken_files_hand_over_to_the_intake(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once enough reports are left to the intake, it takes over the rest of the files."""
    monkeypatch.setattr(report_import_plain, "LEFT_MAX", 1)
    monkeypatch.setattr(report_import, "CHUNK", 16)
    expected = {"stored": DISTINCT, "duplicate": COPIES, "quarantined": len(BROKEN)}
    assert run_import(inbox, tmp_path / "data") == expected
