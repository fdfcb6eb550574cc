"""SQLite through the standard library alone: the connection setup and write transactions of
:mod:`mailshield.storage.sqlite`, for code that must start without loading SQLAlchemy (the
bulk report import).

The same pragmas apply to every connection, whoever opens it: WAL, a busy timeout, enforced
foreign keys, ``synchronous=FULL``, and transaction control left to the caller
(``isolation_level = None``: the driver emits no BEGIN of its own).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = [
    "BUSY_TIMEOUT_MS",
    "configure",
    "connect_file",
    "file_of_name",
    "file_of_url",
    "immediate_transaction",
]

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
"""How long a connection waits for another connection's write lock before failing."""

_PREFIXES = ("sqlite+aiosqlite:///", "sqlite:///")


def configure(connection: sqlite3.Connection) -> None:
    """Apply the pragmas every MailShield SQLite connection has."""
    connection.isolation_level = None  # transactions are begun explicitly (see sqlite.py)
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A report is acknowledged once committed, so a commit must survive a power loss: with
        # WAL, NORMAL may undo the last commits on power loss; FULL syncs the WAL at each commit
        # (one fsync per group commit, which batches the waiting reports).
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def connect_file(path: Path) -> sqlite3.Connection:
    """A configured connection to the database file ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    configure(connection)
    return connection


def file_of_url(url: str) -> Path | None:
    """The file a plain SQLite URL names (``sqlite+aiosqlite:///path``), or ``None`` for
    anything else: other databases, in-memory, URI forms or query options, which callers leave
    to SQLAlchemy."""
    prefix = next((p for p in _PREFIXES if url.startswith(p)), None)
    if prefix is None:
        return None
    name = url[len(prefix) :]
    return None if "?" in name else file_of_name(name)


def file_of_name(name: str | None) -> Path | None:
    """The file a SQLite database name (the part of the URL after ``///``) stands for, or
    ``None`` for an in-memory database or a ``file:`` URI."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def immediate_transaction(
    connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]
) -> T:
    """``work`` in a write transaction taken at BEGIN (``BEGIN IMMEDIATE``, foreign keys
    enforced): committed when it returns, rolled back if it raises. For a connection set up by
    :func:`configure` (the driver emits no BEGIN of its own)."""
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result
