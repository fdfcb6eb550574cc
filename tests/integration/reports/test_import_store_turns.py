"""Commit turns: a worker's chunk waits for every earlier turn's commit, whatever runs first."""

from __future__ import annotations

import gzip
import multiprocessing
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailshield.interfaces.cli.report_import_store import StoredChunk, share_turns, store_chunk
from mailshield.services.ingest_model import IngestOptions
from mailshield.storage.schema_sqlite import ensure_current
from mailshield.storage.sqlite_plain import connect_file

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"


def test_later_turn_submitted_first_commits_second(tmp_path: Path) -> None:
    """Turn 1 handed out before turn 0 still commits after it: turn 0's arrival is stored."""
    database = tmp_path / "mailshield.db"
    with closing(connect_file(database)) as connection:
        assert ensure_current(connection, create=True)
    body = (CORPUS / "google.json").read_bytes()
    first, second = tmp_path / "a.json", tmp_path / "b.json.gz"
    first.write_bytes(body)
    second.write_bytes(gzip.compress(body, mtime=0))
    context = multiprocessing.get_context("fork")
    share_turns(context)
    with context.Pool(2) as pool:
        now = datetime.now(UTC)
        later = pool.apply_async(
            store_chunk, ([str(second)], IngestOptions(), now, str(database), 1)
        )
        earlier = pool.apply_async(
            store_chunk, ([str(first)], IngestOptions(), now, str(database), 0)
        )
        results: list[StoredChunk] = [earlier.get(60), later.get(60)]
    assert [dict(result.totals) for result in results] == [{"stored": 1}, {"duplicate": 1}]
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT source, state FROM tlsrpt_raw ORDER BY id").fetchall()
    assert rows == [(str(first), "stored")]


def test_failed_chunk_passes_its_turn_on(tmp_path: Path) -> None:
    """A chunk whose file cannot be read raises, and still lets the next turn commit."""
    from mailshield.interfaces.cli import report_import_store

    context = multiprocessing.get_context("fork")
    share_turns(context)
    gone = str(tmp_path / "gone.json")
    with context.Pool(1) as pool:
        task = pool.apply_async(
            store_chunk, ([gone], IngestOptions(), datetime.now(UTC), str(tmp_path / "db"), 0)
        )
        with pytest.raises(FileNotFoundError):
            task.get(60)
    assert report_import_store._turns is not None
    assert report_import_store._turns[1].value == 1
