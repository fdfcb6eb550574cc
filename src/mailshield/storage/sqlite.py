"""SQLite connection setup: WAL, foreign keys, busy timeout and real transactions.

Python's ``sqlite3`` (and so ``aiosqlite``) runs in "legacy transaction control": it emits no
BEGIN before SELECT or DDL, so a failed migration would leave half its tables behind. We switch
that off and let SQLAlchemy's ``begin`` event emit BEGIN itself, as the SQLAlchemy SQLite
dialect documentation recommends ("Serializable isolation / Savepoints / Transactional DDL").

Two connection execution options steer each transaction:

- ``mailshield_sqlite_begin``: ``"IMMEDIATE"`` takes the write lock at BEGIN. A deferred
  transaction that reads and then writes fails at once with "database is locked" when another
  connection committed in between; an immediate one waits ``BUSY_TIMEOUT_MS`` instead.
- ``mailshield_foreign_keys``: ``False`` turns enforcement off for that transaction only.
  Schema migrations need this, because SQLite rebuilds a table to alter it, and dropping a
  table with enforcement on would run its ``ON DELETE`` actions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, Engine

BUSY_TIMEOUT_MS = 5000
"""How long a connection waits for another connection's write lock before failing."""

BEGIN_OPTION = "mailshield_sqlite_begin"
FOREIGN_KEYS_OPTION = "mailshield_foreign_keys"


def database_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or ``None`` for an in-memory database."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def prepare_folder(url: URL) -> None:
    """Create the folder that will hold the database file, if the URL names a file."""
    path = database_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def install(engine: Engine) -> None:
    """Attach the connection pragmas and the BEGIN handling to a SQLite engine."""
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (see the module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # With WAL, NORMAL never corrupts; a power loss may only undo the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    # The pragma is a no-op inside a transaction, so it is set just before BEGIN, every time.
    enforce = "ON" if options.get(FOREIGN_KEYS_OPTION, True) else "OFF"
    connection.exec_driver_sql(f"PRAGMA foreign_keys={enforce}")
    mode = "IMMEDIATE" if options.get(BEGIN_OPTION) == "IMMEDIATE" else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")
