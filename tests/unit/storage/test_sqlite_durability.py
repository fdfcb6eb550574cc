"""Every SQLite connection MailShield opens syncs each commit (reports are acknowledged once
committed, so a commit must survive a power loss, not only a crash of the process)."""

from __future__ import annotations

from pathlib import Path

from mailshield.storage.sqlite_plain import connect_file

_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_connections_sync_every_commit(tmp_path: Path) -> None:
    """A configured connection runs in WAL mode with synchronous=FULL."""
    connection = connect_file(tmp_path / "db.sqlite")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA synchronous").fetchone() == (_FULL,)
    finally:
        connection.close()
