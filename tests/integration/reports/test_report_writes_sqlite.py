"""The SQLite batch writer: one driver call per batch, same rows and outcomes as the general one."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mailshield.core.documents.tls_report import parse_tls_report
from mailshield.storage import Database
from mailshield.storage.migrate import upgrade
from mailshield.storage.report_prepared import prepare, sqlite_datetime
from mailshield.storage.report_writes import write_decisions
from mailshield.storage.reports import KeepReport, Quarantine, RawArrival, ReportStore, Written

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
NOW = datetime(2024, 5, 2, 6, 0, tzinfo=UTC)
GOOD = ("google.json", "microsoft.json", "mailru.json", "quirks.json", "conformant.json.gz")
TABLES = ("tlsrpt_reports", "tlsrpt_policies", "tlsrpt_failures", "tlsrpt_raw")


def keep(name: str, channel: str = "file", later: int = 0) -> KeepReport:
    """A new arrival of corpus report ``name``, ``later`` seconds after NOW."""
    data = (CORPUS / name).read_bytes()
    report = parse_tls_report(data).report
    assert report is not None
    raw = RawArrival(data, channel, NOW + timedelta(seconds=later), source=name)
    return KeepReport(report, channel, raw.received_at, raw=raw)


@pytest.fixture
async def other(tmp_path: Path) -> AsyncIterator[Database]:
    """A second migrated SQLite database."""
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}") as db:
        await upgrade(db)
        yield db


async def contents(db: Database) -> dict[str, list[Any]]:
    async with db.connect() as connection:
        return {
            table: list(await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")))
            for table in TABLES
        }


def sqlite_only(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the batch writer is SQLite's")


async def test_same_rows_as_the_general_writer(migrated: Database, other: Database) -> None:
    """A batch with copies stores exactly the rows the general writer stores for it."""
    sqlite_only(migrated)
    batch = [keep(name, later=n) for n, name in enumerate((*GOOD, "google.json"))]
    fast = await ReportStore(migrated).write(batch)
    async with other.transaction() as connection:
        general = await write_decisions(connection, batch)
    assert fast == general
    assert await contents(migrated) == await contents(other)


async def test_copies_are_counted(migrated: Database) -> None:
    """Copies in a batch and of stored reports raise copies, OR channels, keep the latest time."""
    sqlite_only(migrated)
    store = ReportStore(migrated)
    [first] = await store.write([keep("google.json", "https")])
    again = await store.write([keep("google.json", later=5), keep("google.json", later=9)])
    assert again == [
        Written("duplicate", first.report_id, None, 2),
        Written("duplicate", first.report_id, None, 3),
    ]
    report = keep("google.json").report
    stored = await store.find(report.organization_name, report.report_id)
    assert stored is not None
    assert (stored.copies, stored.channels) == (3, ("https", "file"))
    async with migrated.connect() as connection:
        seen = (await connection.execute(text("SELECT last_seen_at FROM tlsrpt_reports"))).scalar()
    assert seen == sqlite_datetime(NOW + timedelta(seconds=9))


async def test_mixed_batch_is_one_transaction_in_order(migrated: Database) -> None:
    """New reports, prepared rows and a quarantine in one batch: each result in its place."""
    store = ReportStore(migrated)
    bad = RawArrival(b"{", "file", NOW, source="bad.json")
    batch: list[Any] = [keep("google.json"), Quarantine("bad_json", "cut short", raw=bad)]
    if migrated.dialect == "sqlite":
        microsoft = keep("microsoft.json")
        assert microsoft.raw is not None
        batch.append(prepare(microsoft.report, microsoft.raw))
    results = await store.write(batch)
    assert [w.state for w in results] == ["stored", "quarantined", "stored"][: len(batch)]


async def test_prepared_rows_are_for_sqlite(migrated: Database) -> None:
    """PostgreSQL refuses prepared rows instead of storing SQLite's text forms."""
    if migrated.dialect == "sqlite":
        pytest.skip("SQLite takes them")
    item = keep("google.json")
    assert item.raw is not None
    with pytest.raises(TypeError):
        await ReportStore(migrated).write([prepare(item.report, item.raw)])


async def test_failed_batch_leaves_nothing(migrated: Database) -> None:
    """A batch that fails part-way is rolled back whole, and the next batch is written."""
    sqlite_only(migrated)
    good = keep("microsoft.json")
    broken = keep("google.json")
    assert good.raw is not None
    assert broken.raw is not None
    rows = prepare(broken.report, broken.raw)
    twice = rows._replace(policies=rows.policies + rows.policies[:1])  # same (report, position)
    store = ReportStore(migrated)
    with pytest.raises(sqlite3.IntegrityError):
        await store.write([prepare(good.report, good.raw), twice])
    assert all(not rows for rows in (await contents(migrated)).values())
    assert [w.state for w in await store.write([good])] == ["stored"]
