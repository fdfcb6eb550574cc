"""``mailshield reports import`` of a folder large enough for the worker pool: same outcome and
same stored rows as the one-by-one path."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mailshield.interfaces.cli import report_import
from mailshield.interfaces.cli.main import cli

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
