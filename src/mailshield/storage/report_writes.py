"""The statements behind :meth:`ReportStore.write`: one transaction, few statements per batch.

New reports with their raw bytes (the common case: every arrival of every channel) are written
in bulk: one multi-row ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING`` for the
reports, one for their policies, one for their failure details, one for the raw bytes; a
report key that was already stored, or that came several times in the batch, gets one
``UPDATE`` raising ``copies``. Each statement is a round trip to the database (a thread hop
with aiosqlite), so this is what makes intake fast. Everything else (quarantine, reprocessing,
splitting a message) is rare and written one decision at a time.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table, case, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailshield.storage.columns import UTCDateTime
from mailshield.storage.report_prepared import sqlite_datetime
from mailshield.storage.report_rows import (
    CHANNEL_BITS,
    DUPLICATE,
    QUARANTINED,
    SPLIT,
    STORED,
    Decision,
    KeepReport,
    Quarantine,
    RawArrival,
    Split,
    Written,
    dedupe_hash,
    failure_rows,
    policy_rows,
    raw_values,
    report_values,
)
from mailshield.storage.report_tables import (
    tlsrpt_failures,
    tlsrpt_policies,
    tlsrpt_quarantine_domains,
    tlsrpt_raw,
    tlsrpt_reports,
)

__all__ = ["add_quarantine_domains", "write_decisions"]

_Entry = tuple[int, KeepReport]


async def write_decisions(
    connection: AsyncConnection, decisions: Sequence[Decision]
) -> list[Written]:
    """Apply ``decisions`` on ``connection`` (inside the caller's transaction), in order."""
    results: list[Written | None] = [None] * len(decisions)
    fresh = [
        (index, d)
        for index, d in enumerate(decisions)
        if isinstance(d, KeepReport) and d.raw is not None
    ]
    if fresh:
        for index, written in (await _Bulk(connection).keep(fresh)).items():
            results[index] = written
    single = _Single(connection)
    for index, decision in enumerate(decisions):
        if results[index] is None:
            results[index] = await single.apply(decision)
    return [written for written in results if written is not None]


class _Bulk:
    """New arrivals of reports, a batch at a time."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def keep(self, entries: list[_Entry]) -> dict[int, Written]:
        groups: dict[str, list[_Entry]] = {}
        for index, decision in entries:
            groups.setdefault(dedupe_hash(decision.report.dedupe_key), []).append((index, decision))
        # Keys in one order for every writer: two PostgreSQL transactions inserting the same
        # reports then wait on each other in turn instead of deadlocking.
        keys = sorted(groups)
        inserted = await self._insert_reports([groups[key][0][1] for key in keys])
        raw_ids = await self._insert_rows(groups, inserted)
        out: dict[int, Written] = {}
        for key in keys:
            group = groups[key]
            copies = group[1:] if key in inserted else group
            if key in inserted:
                first = group[0][0]
                out[first] = Written(STORED, inserted[key], raw_ids[first], 1)
            if copies:
                report_id, total = await count_copies(self._c, key, [d for _, d in copies])
                for number, (index, _) in enumerate(copies, 1):
                    out[index] = Written(DUPLICATE, report_id, None, total - len(copies) + number)
        return out

    async def _insert_reports(self, firsts: list[KeepReport]) -> dict[str, int]:
        """Insert the reports not stored yet; ``{dedupe key: id}`` of those inserted."""
        table = tlsrpt_reports
        rows = [report_values(d) for d in firsts]
        if self._c.dialect.name == "sqlite":
            # The transaction holds SQLite's write lock (BEGIN IMMEDIATE), so the rows with an
            # id above the largest before the insert are exactly the ones it added.
            before = (await self._c.execute(select(func.max(table.c.id)))).scalar() or 0
            await insert_many(
                self._c, table, rows, on_conflict="ON CONFLICT (dedupe_key) DO NOTHING"
            )
            query = select(table.c.id, table.c.dedupe_key).where(table.c.id > before)
        else:
            statement = (
                postgresql.insert(table)
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
                .returning(table.c.id, table.c.dedupe_key)
            )
            return {r.dedupe_key: int(r.id) for r in await self._c.execute(statement, rows)}
        return {r.dedupe_key: int(r.id) for r in await self._c.execute(query)}

    async def _insert_rows(
        self, groups: dict[str, list[_Entry]], inserted: dict[str, int]
    ) -> dict[int, int]:
        """Policies, failure details and raw bytes of the inserted reports; raw id per entry."""
        policies: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        raws: list[dict[str, Any]] = []
        indexes: list[int] = []
        for key, report_id in inserted.items():
            index, decision = groups[key][0]
            policies += policy_rows(report_id, decision.report)
            failures += failure_rows(report_id, decision.report)
            assert decision.raw is not None
            raws.append(raw_values(decision.raw, STORED, report_id=report_id))
            indexes.append(index)
        await insert_many(self._c, tlsrpt_policies, policies)
        await insert_many(self._c, tlsrpt_failures, failures)
        if not raws:
            return {}
        await insert_many(self._c, tlsrpt_raw, raws)
        # The raw rows' ids by report: no RETURNING, which SQLAlchemy would run row by row
        # to keep the parameter order.
        reports = [row["report_fk"] for row in raws]
        query = select(tlsrpt_raw.c.report_fk, tlsrpt_raw.c.id).where(
            tlsrpt_raw.c.report_fk.in_(reports), tlsrpt_raw.c.state == STORED
        )
        by_report = {int(row.report_fk): int(row.id) for row in await self._c.execute(query)}
        return {index: by_report[report] for index, report in zip(indexes, reports, strict=True)}


async def insert_many(
    connection: AsyncConnection, table: Table, rows: list[dict[str, Any]], on_conflict: str = ""
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``.

    On SQLite this goes straight to the driver's ``executemany``, with values converted the way
    the column types store them (UTC datetimes as SQLAlchemy's text form, JSON as text):
    SQLAlchemy's per-row parameter processing costs about twice the inserts themselves.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        assert not on_conflict, "ON CONFLICT through the driver is for SQLite only"
        await connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    # Names are the table's own columns (table.c[name] raises otherwise); values are bound.
    converted = [
        (position, convert)
        for position, name in enumerate(names)
        if (convert := _sqlite_converter(table.c[name].type)) is not None
    ]
    columns, marks = ", ".join(names), ", ".join("?" * len(names))
    statement = f"INSERT INTO {table.name} ({columns}) VALUES ({marks}) {on_conflict}"  # noqa: S608
    # Tuples built by itemgetter (C), then only the datetime and JSON columns converted.
    take = operator.itemgetter(*names)
    values: list[Any] = [take(row) for row in rows]
    if len(names) == 1:
        values = [(value,) for value in values]
    if converted:
        values = [_convert(list(row), converted) for row in values]
    await connection.exec_driver_sql(statement, values)


def _convert(row: list[Any], converted: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    for position, convert in converted:
        row[position] = convert(row[position])
    return tuple(row)


def _sqlite_converter(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, UTCDateTime):
        return sqlite_datetime
    if isinstance(column_type, JSON):
        return _sqlite_json
    return None


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


async def count_copies(
    connection: AsyncConnection, key: str, copies: Sequence[KeepReport]
) -> tuple[int, int]:
    """Count ``copies`` of the stored report ``key``: ``(report id, copies now)``."""
    table = tlsrpt_reports
    bits = 0
    for decision in copies:
        bits |= CHANNEL_BITS[decision.channel]
    seen = max(decision.received_at for decision in copies)
    statement = (
        update(table)
        .where(table.c.dedupe_key == key)
        .values(
            copies=table.c.copies + len(copies),
            channels=table.c.channels.op("|")(bits),
            last_seen_at=case(
                (table.c.last_seen_at < seen, literal(seen, table.c.last_seen_at.type)),
                else_=table.c.last_seen_at,
            ),
        )
        .returning(table.c.id, table.c.copies)
    )
    row = (await connection.execute(statement)).one()
    return int(row.id), int(row.copies)


class _Single:
    """One decision at a time: reprocessing, quarantine, splitting a message."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def apply(self, decision: Decision) -> Written:
        if isinstance(decision, KeepReport):
            return await self._keep(decision)
        if isinstance(decision, Split):
            await self._set_raw(decision.raw_id, state=SPLIT, detail=decision.detail)
            return Written(SPLIT, None, decision.raw_id, 1)
        return await self._quarantine(decision)

    async def _keep(self, decision: KeepReport) -> Written:
        table = tlsrpt_reports
        statement = (
            _dialect_insert(self._c, table)
            .values(report_values(decision))
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        report_id = (await self._c.execute(statement)).scalar_one_or_none()
        if report_id is None:
            key = dedupe_hash(decision.report.dedupe_key)
            report_id, copies = await count_copies(self._c, key, [decision])
            raw_id = await self._resolve(decision, DUPLICATE, report_id)
            return Written(DUPLICATE, report_id, raw_id, copies)
        report_id = int(report_id)
        await insert_many(self._c, tlsrpt_policies, policy_rows(report_id, decision.report))
        await insert_many(self._c, tlsrpt_failures, failure_rows(report_id, decision.report))
        raw_id = await self._resolve(decision, STORED, report_id)
        return Written(STORED, report_id, raw_id, 1)

    async def _resolve(self, decision: KeepReport, state: str, report_id: int) -> int | None:
        if decision.raw is not None and state == STORED:
            return await self._insert_raw(raw_values(decision.raw, STORED, report_id=report_id))
        if decision.raw_id is not None:
            await self._set_raw(
                decision.raw_id, state=state, report_fk=report_id, reason=None, detail=None
            )
        return decision.raw_id

    async def _quarantine(self, decision: Quarantine) -> Written:
        written = await self._quarantine_raw(decision)
        assert written.raw_id is not None
        await add_quarantine_domains(self._c, written.raw_id, decision.domains)
        return written

    async def _quarantine_raw(self, decision: Quarantine) -> Written:
        if decision.raw_id is not None:
            statement = (
                update(tlsrpt_raw)
                .where(tlsrpt_raw.c.id == decision.raw_id)
                .values(state=QUARANTINED, reason=decision.reason, detail=decision.detail)
                .returning(tlsrpt_raw.c.copies)
            )
            copies = (await self._c.execute(statement)).scalar_one()
            return Written(QUARANTINED, None, decision.raw_id, int(copies))
        assert decision.raw is not None
        again = await self._quarantined_copy(decision.raw)
        if again is not None:
            return Written(QUARANTINED, None, *again)
        values = raw_values(
            decision.raw, QUARANTINED, reason=decision.reason, detail=decision.detail
        )
        return Written(QUARANTINED, None, await self._insert_raw(values), 1)

    async def _quarantined_copy(self, raw: RawArrival) -> tuple[int, int] | None:
        """Count identical bytes already in quarantine as a copy: ``(raw id, copies)``."""
        digest = hashlib.sha256(raw.data).hexdigest()
        found = (
            select(tlsrpt_raw.c.id)
            .where(tlsrpt_raw.c.sha256 == digest, tlsrpt_raw.c.state == QUARANTINED)
            .limit(1)
            .scalar_subquery()
        )
        statement = (
            update(tlsrpt_raw)
            .where(tlsrpt_raw.c.id == found)
            .values(copies=tlsrpt_raw.c.copies + 1)
            .returning(tlsrpt_raw.c.id, tlsrpt_raw.c.copies)
        )
        row = (await self._c.execute(statement)).one_or_none()
        return None if row is None else (int(row.id), int(row.copies))

    async def _insert_raw(self, values: dict[str, Any]) -> int:
        statement = insert(tlsrpt_raw).values(values).returning(tlsrpt_raw.c.id)
        return int((await self._c.execute(statement)).scalar_one())

    async def _set_raw(self, raw_id: int, **values: Any) -> None:
        await self._c.execute(update(tlsrpt_raw).where(tlsrpt_raw.c.id == raw_id).values(values))


async def add_quarantine_domains(
    connection: AsyncConnection, raw_id: int, names: Sequence[str]
) -> None:
    """Record that quarantined arrival ``raw_id`` was sent for ``names`` (kept ones stay)."""
    if not names:
        return
    table = tlsrpt_quarantine_domains
    rows = [{"raw_fk": raw_id, "domain": name} for name in sorted(set(names))]
    statement = _dialect_insert(connection, table).on_conflict_do_nothing(
        index_elements=["raw_fk", "domain"]
    )
    await connection.execute(statement, rows)


def _dialect_insert(connection: AsyncConnection, table: Any) -> Any:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support (SQLite ≥ 3.35, PostgreSQL)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
