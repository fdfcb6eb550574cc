"""Worker processes committing their own chunks: in file order, so the stored rows equal the
one-by-one import's, whatever the chunk size; copies counted on a second import."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from tests.integration.reports.test_import_pool import BROKEN, CORPUS, run_import, stored

from mailshield.interfaces.cli import report_import, report_import_store

DISTINCT, COPIES = 300, 40


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Distinct reports, copies of the first ones a few files later whose bytes differ (gzip),
    and broken files: which arrival is stored shows the commit order."""
    folder = tmp_path_factory.mktemp("inbox")
    template = json.loads((CORPUS / "google.json").read_text())
    for number in range(DISTINCT):
        body = json.dumps(template | {"report-id": f"bulk-{number:04d}"}).encode()
        (folder / f"r{number:04d}.json").write_bytes(body)
        if number < COPIES:
            (folder / f"r{number + 5:04d}c.json.gz").write_bytes(gzip.compress(body, mtime=0))
    for name in BROKEN:
        shutil.copy(CORPUS / name, folder / name)
    return folder


@pytest.mark.parametrize("chunk", [7, 64], ids=["chunks-of-7", "chunks-of-64"])
def test_workers_commit_in_file_order(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Chunks committed by the workers store the first arrival of each report, as without them."""
    expected = {"stored": DISTINCT, "duplicate": COPIES, "quarantined": len(BROKEN)}
    monkeypatch.setattr(report_import, "STORE_CHUNK", chunk)
    assert run_import(inbox, tmp_path / "pooled") == expected
    monkeypatch.setattr(report_import, "POOL_THRESHOLD", 10**9)
    assert run_import(inbox, tmp_path / "alone") == expected
    assert stored(tmp_path / "pooled") == stored(tmp_path / "alone")


def test_second_import_counts_every_copy(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imported again with small chunks, every report is a copy and nothing is stored twice."""
    monkeypatch.setattr(report_import, "STORE_CHUNK", 16)
    run_import(inbox, tmp_path / "data")
    again = run_import(inbox, tmp_path / "data")
    assert again == {"duplicate": DISTINCT + COPIES, "quarantined": len(BROKEN)}


def test_workers_checkpoint_after_their_turn(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a checkpoint after every chunk (beside the next chunk's commit), the import stores
    the same rows, and the database file holds them once the log is copied."""
    monkeypatch.setattr(report_import, "STORE_CHUNK", 16)
    monkeypatch.setattr(report_import_store, "CHECKPOINT_BYTES", 0)
    expected = {"stored": DISTINCT, "duplicate": COPIES, "quarantined": len(BROKEN)}
    assert run_import(inbox, tmp_path / "checkpointed") == expected
    monkeypatch.setattr(report_import, "POOL_THRESHOLD", 10**9)
    assert run_import(inbox, tmp_path / "alone") == expected
    assert stored(tmp_path / "checkpointed") == stored(tmp_path / "alone")


def test_checkpoint_copies_the_log_once_it_is_long_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's connection leaves the log alone at commits; the checkpoint copies it into
    the database file once it reaches ``CHECKPOINT_BYTES``."""
    database = str(tmp_path / "wal.db")
    connection = report_import_store._connection(database)
    try:
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        connection.execute("CREATE TABLE t (x BLOB)")
        connection.execute("INSERT INTO t VALUES (zeroblob(200000))")
        before = Path(database).stat().st_size
        monkeypatch.setattr(report_import_store, "CHECKPOINT_BYTES", 1 << 30)
        report_import_store._checkpoint(database)
        assert Path(database).stat().st_size == before
        monkeypatch.setattr(report_import_store, "CHECKPOINT_BYTES", 0)
        report_import_store._checkpoint(database)
        assert Path(database).stat().st_size > before + 200_000
    finally:
        report_import_store._connections.pop(database).close()
