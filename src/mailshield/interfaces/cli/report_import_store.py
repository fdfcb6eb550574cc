"""Worker processes of a plain SQLite import commit their own chunks (nothing sent back).

Once the importing process has the schema at the head, each worker reads, parses and builds
the rows of a chunk (:func:`~mailshield.interfaces.cli.report_import.prepare_chunk`) and
commits them itself with :func:`~mailshield.storage.report_writes_sqlite.write_batch` on a
connection of its own: one ``BEGIN IMMEDIATE`` transaction per chunk, so the workers take
SQLite's write lock in turn (waiting up to the busy timeout). Deduplication stays exact under
that concurrency: the stored keys are looked up and ids assigned with the lock held, so the
unique key decides which arrival is stored and every other one is counted as a copy.

The chunks commit in file order, as the import without workers would: each task has a turn
number, and waits (after parsing, before ``BEGIN``) until every earlier turn committed, through
a counter and condition shared with the workers at the fork (:func:`share_turns`). A turn that
never comes (a task cancelled while the import fails) is waited for ``TURN_WAIT_S`` at most;
the chunk is then committed out of order, which changes only which arrival of a duplicated
report is the stored one, never the counts.

A worker's connection does not checkpoint at its commits (SQLite's automatic checkpoint would
run inside the commit turn, and every later chunk would wait for it); the worker checkpoints
once the log has grown, after passing its turn on (:func:`_checkpoint`).

Only the totals come back (:class:`StoredChunk`), counted after the commit, plus what the
intake must decide itself: reports that were not prepared (unparseable, oversize) and, if the
transaction failed, the chunk's prepared rows.
"""

from __future__ import annotations

import multiprocessing.util
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.context import ForkContext
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Condition
from pathlib import Path

from mailshield.core.documents.tls_report import TlsReportParse
from mailshield.interfaces.cli.report_import import prepare_chunk
from mailshield.services.ingest_model import IngestOptions
from mailshield.storage.report_prepared import PreparedReport
from mailshield.storage.report_writes_sqlite import write_batch
from mailshield.storage.sqlite_plain import connect_file

__all__ = ["CHECKPOINT_BYTES", "TURN_WAIT_S", "StoredChunk", "share_turns", "store_chunk"]

TURN_WAIT_S = 30.0  # longest wait for the earlier chunks' commits
CHECKPOINT_BYTES = 4 << 20  # write-ahead log size to checkpoint at (SQLite's 1,000 pages)

_connections: dict[str, sqlite3.Connection] = {}  # this worker's, by database file
_turns: tuple[Condition, Synchronized[int]] | None = None  # next turn to commit, shared


def share_turns(context: ForkContext) -> None:
    """Create the commit-turn counter (at zero) that processes forked afterwards share."""
    global _turns  # inherited by the workers at the fork, so module state
    _turns = (context.Condition(), context.Value("q", 0, lock=False))


@dataclass(slots=True)
class StoredChunk:
    """What a worker committed (``totals`` per state) and what it leaves to the intake:
    ``parsed`` reports with their paths, and ``prepared`` rows whose transaction failed."""

    totals: Counter[str] = field(default_factory=Counter)
    parsed: list[tuple[bytes, TlsReportParse, str]] = field(default_factory=list)
    prepared: list[PreparedReport] = field(default_factory=list)


def store_chunk(
    paths: list[str], options: IngestOptions, received_at: datetime, database: str, turn: int
) -> StoredChunk:
    """Parse ``paths``, commit the new reports' rows to the SQLite file ``database`` in one
    transaction once ``turn`` comes, and say what was committed and what is left (runs in a
    worker process)."""
    out = StoredChunk()
    try:  # the turn is passed on whatever happens, so no later chunk waits for this one
        batch = _prepare(paths, options, received_at, out)
        _wait_for(turn)
        if batch:
            _write(database, batch, out)
    finally:
        _done(turn)
    _checkpoint(database)  # while the next turn commits
    return out


def _prepare(
    paths: list[str], options: IngestOptions, received_at: datetime, out: StoredChunk
) -> list[PreparedReport]:
    """The rows of the chunk's new reports; the other reports are added to ``out.parsed``."""
    batch: list[PreparedReport] = []
    for result, path in zip(prepare_chunk(paths, options, received_at), paths, strict=True):
        if isinstance(result, PreparedReport):
            batch.append(result)
        else:
            out.parsed.append((*result, path))
    return batch


def _write(database: str, batch: list[PreparedReport], out: StoredChunk) -> None:
    try:
        written = write_batch(_connection(database), batch)
    except sqlite3.Error:
        out.prepared = batch
    else:
        out.totals.update(w.state for w in written)


def _wait_for(turn: int) -> None:
    """Wait until every earlier turn committed (or ``TURN_WAIT_S`` passed)."""
    if _turns is None:
        return
    condition, next_turn = _turns
    with condition:
        condition.wait_for(lambda: next_turn.value >= turn, TURN_WAIT_S)


def _done(turn: int) -> None:
    """Let the next turn commit."""
    if _turns is None:
        return
    condition, next_turn = _turns
    with condition:
        next_turn.value = max(next_turn.value, turn + 1)
        condition.notify_all()


def _connection(database: str) -> sqlite3.Connection:
    """This process's connection to ``database``, opened on first use and closed when the
    worker process exits. It never checkpoints at a commit: :func:`_checkpoint` does, after
    the commit turn is passed on."""
    connection = _connections.get(database)
    if connection is None:
        connection = _connections[database] = connect_file(Path(database))
        connection.execute("PRAGMA wal_autocheckpoint=0")
        multiprocessing.util.Finalize(None, connection.close, exitpriority=10)
    return connection


def _checkpoint(database: str) -> None:
    """Copy the write-ahead log into the database once it holds ``CHECKPOINT_BYTES``.

    SQLite checkpoints at the commit that crosses its threshold (1,000 pages), inside that
    commit's turn, so every later chunk waited for it. Here it runs after the turn is passed
    on, beside the next commit (``PASSIVE``: it never waits for a lock). A commit is durable
    in the log already (``synchronous=FULL``); the checkpoint only keeps the log short.
    """
    connection = _connections.get(database)
    try:
        if connection is None or os.stat(f"{database}-wal").st_size < CHECKPOINT_BYTES:
            return
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except (OSError, sqlite3.Error):
        return  # the next chunk tries again, and the last connection closed checkpoints all
