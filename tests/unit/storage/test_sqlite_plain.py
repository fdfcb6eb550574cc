"""SQLite without SQLAlchemy: which URLs name a plain file, and the write transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import make_url
from tests.unit.storage.test_sqlite import FILE_URLS

from mailshield.storage.sqlite import database_file
from mailshield.storage.sqlite_plain import connect_file, file_of_url, immediate_transaction


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        *FILE_URLS,
        pytest.param("sqlite+aiosqlite:///m.db?timeout=3", None, id="options"),
        pytest.param("postgresql+asyncpg://u:p@127.0.0.1/ms", None, id="postgresql"),
    ],
)
def test_file_of_url(url: str, expected: Path | None) -> None:
    """Plain file URLs give the path SQLAlchemy reads from them; everything else gives none."""
    assert file_of_url(url) == expected
    if expected is not None:
        assert database_file(make_url(url)) == expected


def test_connection_setup(tmp_path: Path) -> None:
    """A plain connection gets WAL, enforced foreign keys and no implicit BEGIN; its folder
    is created."""
    connection = connect_file(tmp_path / "new" / "m.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert connection.isolation_level is None
    finally:
        connection.close()


def test_transaction_commits_or_rolls_back(tmp_path: Path) -> None:
    """Work that returns is committed; work that raises leaves nothing behind."""
    connection = connect_file(tmp_path / "m.db")
    try:
        connection.execute("CREATE TABLE t (n INTEGER)")
        immediate_transaction(connection, lambda c: c.execute("INSERT INTO t VALUES (1)"))

        def fails(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError):
            immediate_transaction(connection, fails)
        assert connection.execute("SELECT n FROM t").fetchall() == [(1,)]
        assert not connection.in_transaction
    finally:
        connection.close()
