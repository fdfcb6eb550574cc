"""The bulk import into a SQLite file without SQLAlchemy, asyncio or Alembic.

When the database is a plain SQLite file whose schema is at the head (or empty, and may be
created), the worker processes commit their chunks themselves
(:mod:`~mailshield.interfaces.cli.report_import_store`) and send back only counts; the rows of
chunks parsed before the schema was ready come back and go straight to
:func:`~mailshield.storage.report_writes_sqlite.write_batch` here. Either way it is the writer,
deduplication and transaction the intake's group commit uses on SQLite, on a standard-library
connection, without the half second it takes to load SQLAlchemy. A batch's reports are counted
only once its transaction committed.

Everything else is left to the intake (:class:`Leftovers`): reports it must decide itself
(unparseable, oversize), and the reports of a batch whose write failed (the intake retries
them one by one and quarantines what still fails).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from mailshield.interfaces.cli.report_import import (
    IN_FLIGHT,
    Leftovers,
    ParseAhead,
    Result,
    progress_bar,
)
from mailshield.interfaces.cli.report_import_store import StoredChunk
from mailshield.storage.report_prepared import PreparedReport
from mailshield.storage.report_writes_sqlite import write_batch
from mailshield.storage.schema_sqlite import ensure_current
from mailshield.storage.sqlite_plain import connect_file

__all__ = ["PlainImport", "import_plain"]

LEFT_MAX = IN_FLIGHT  # reports left to the intake after which it takes over the rest


@dataclass(slots=True)
class PlainImport:
    """Totals of what was committed here, and what is left to the intake."""

    totals: Counter[str] = field(default_factory=Counter)
    rest: Leftovers = field(default_factory=Leftovers)


def import_plain(
    path: Path, ahead: ParseAhead, *, create: bool, quiet: bool, files: int
) -> PlainImport | None:
    """Store the parsed reports of ``ahead`` in the SQLite file ``path``; ``None`` (nothing
    consumed) when its schema needs Alembic first. ``create`` allows giving an empty database
    the schema; ``files`` sizes the progress bar. Stops early, leaving the rest of ``ahead`` to
    the intake, once ``LEFT_MAX`` reports are left to it (a folder of mostly broken files)."""
    with closing(connect_file(path)) as connection:
        if not ensure_current(connection, create=create):
            return None
        done = PlainImport()
        pending: list[PreparedReport] = []
        with progress_bar(quiet) as progress:
            task = progress.add_task("importing", total=files)

            def take(chunk: list[str], results: Result) -> None:
                _take(chunk, results, pending, done)

            ahead.store_into(str(path), take)  # what was parsed already is written first
            _write(connection, pending, done)
            pending.clear()
            for chunk, results in ahead.results():
                _take(chunk, results, pending, done)
                if len(pending) >= IN_FLIGHT:
                    _write(connection, pending, done)
                    pending = []
                progress.advance(task, len(chunk))
                if len(done.rest.parsed) + len(done.rest.prepared) >= LEFT_MAX:
                    break  # the intake takes over from here, so what is left stays bounded
            _write(connection, pending, done)
        return done


def _take(
    chunk: list[str], results: Result, pending: list[PreparedReport], done: PlainImport
) -> None:
    """Count a chunk the workers stored, or add its rows to ``pending``; either way, note
    what is left to the intake."""
    if isinstance(results, StoredChunk):
        done.totals.update(results.totals)
        done.rest.parsed += results.parsed
        done.rest.prepared += results.prepared
        return
    for result, source in zip(results, chunk, strict=True):
        if isinstance(result, PreparedReport):
            pending.append(result)
        else:
            done.rest.parsed.append((*result, source))


def _write(connection: sqlite3.Connection, batch: list[PreparedReport], done: PlainImport) -> None:
    """Commit ``batch`` and count it; a batch that fails is left to the intake whole."""
    if not batch:
        return
    try:
        written = write_batch(connection, batch)
    except sqlite3.Error:
        done.rest.prepared.extend(batch)
        return
    done.totals.update(w.state for w in written)
