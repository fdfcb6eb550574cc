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

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from mailshield.storage.sqlite_plain import (
    BUSY_TIMEOUT_MS,
    configure,
    file_of_name,
    immediate_transaction,
)

T = TypeVar("T")

__all__ = [
    "BEGIN_OPTION",
    "BUSY_TIMEOUT_MS",
    "FOREIGN_KEYS_OPTION",
    "database_file",
    "immediate_transaction",
    "install",
    "prepare_folder",
    "run_on_driver",
]

BEGIN_OPTION = "mailshield_sqlite_begin"
FOREIGN_KEYS_OPTION = "mailshield_foreign_keys"


def database_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or ``None`` for an in-memory database."""
    return file_of_name(url.database)


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
    configure(dbapi_connection)  # hands transaction control to SQLAlchemy (module docstring)


def _on_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    # The pragma is a no-op inside a transaction, so it is set just before BEGIN, every time.
    enforce = "ON" if options.get(FOREIGN_KEYS_OPTION, True) else "OFF"
    connection.exec_driver_sql(f"PRAGMA foreign_keys={enforce}")
    mode = "IMMEDIATE" if options.get(BEGIN_OPTION) == "IMMEDIATE" else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


async def run_on_driver(connection: AsyncConnection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` with the ``sqlite3`` connection behind ``connection``, in one call on the
    thread aiosqlite owns it with (one thread hop, however many statements ``work`` runs).

    Whatever transaction ``connection`` is in, ``work`` runs inside it. aiosqlite has no
    public call for this; ``Connection._execute`` is the call its own methods queue through.
    """
    fairy = await connection.get_raw_connection()
    driver: Any = fairy.driver_connection
    return cast(T, await driver._execute(lambda: work(driver._conn)))
