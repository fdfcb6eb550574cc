"""The TLS-RPT report repository: keep arrivals, deduplicate reports, quarantine, read back.

:meth:`ReportStore.write` takes a batch of decisions the ingest pipeline made (keep this report,
quarantine those bytes) and applies them in **one** transaction, so a caller that answers only
after it returned never acknowledges anything that is not committed. Per decision:

- :class:`KeepReport`: insert the report with ``ON CONFLICT (dedupe_key) DO NOTHING``; when a
  row came back it is new, so its policies, failure details and raw bytes follow; otherwise
  the existing report's ``copies`` and ``channels`` are raised (no second copy is stored).
  Concurrent copies on PostgreSQL wait on the unique index and end up counted, never stored
  twice.
- :class:`Quarantine`: insert the raw bytes with the reason, or raise ``copies`` on an
  identical quarantined arrival.
- :class:`Split`: a quarantined message whose reports were taken out on reprocessing.

``KeepReport`` and ``Quarantine`` resolve an existing raw row instead when ``raw_id`` is set
(reprocessing). The statements are in :mod:`~mailshield.storage.report_writes`; on SQLite,
new arrivals (the common case) are written by :mod:`~mailshield.storage.report_writes_sqlite`
in one call on the driver's thread, from rows that may have been prepared ahead
(:class:`PreparedReport`, :mod:`~mailshield.storage.report_prepared`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, or_, select

from mailshield.core.documents.tls_report_model import TlsReport
from mailshield.storage.database import Database
from mailshield.storage.report_prepared import PreparedReport, prepare
from mailshield.storage.report_rows import (
    CHANNEL_BITS,
    QUARANTINED,
    Decision,
    KeepReport,
    Quarantine,
    RawArrival,
    Split,
    Written,
    channels_of,
    dedupe_hash,
    pack,
    unpack,
)
from mailshield.storage.report_tables import (
    tlsrpt_quarantine_domains,
    tlsrpt_raw,
    tlsrpt_reports,
)
from mailshield.storage.report_writes import write_decisions
from mailshield.storage.report_writes_sqlite import write_prepared
from mailshield.storage.sqlite import run_on_driver

__all__ = [
    "CHANNEL_BITS",
    "KeepReport",
    "PreparedReport",
    "Quarantine",
    "RawArrival",
    "RawRecord",
    "ReportStore",
    "Split",
    "StoredReport",
    "Written",
    "channels_of",
    "dedupe_hash",
    "pack",
    "unpack",
]


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A stored report's identity and how often, and by which channels, it arrived."""

    id: int
    organization_name: str
    report_id: str
    copies: int
    channels: tuple[str, ...]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A raw arrival as kept: its bytes (decompressed), state and, if quarantined, why."""

    id: int
    received_at: datetime
    channel: str
    kind: str
    source: str | None
    content_type: str | None
    size: int
    state: str
    reason: str | None
    detail: str | None
    copies: int
    report_id: int | None
    data: bytes = b""


class ReportStore:
    """The TLS-RPT report repository (reads for analysis live in :mod:`report_queries`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def database(self) -> Database:
        return self._db

    async def write(self, decisions: Sequence[Decision | PreparedReport]) -> list[Written]:
        """Apply ``decisions`` in one transaction; when this returns, all are committed.

        On SQLite, new arrivals of reports (prepared or not) are written by one call on the
        driver's thread (:mod:`~mailshield.storage.report_writes_sqlite`); a batch of only
        those is the whole transaction in that one call. :class:`PreparedReport` is for
        SQLite only.
        """
        if self._db.dialect != "sqlite":
            async with self._db.transaction() as connection:
                return await write_decisions(connection, _unprepared(decisions))
        fresh = [index for index, d in enumerate(decisions) if _is_fresh(d)]
        write = functools.partial(write_prepared, batch=[_prepared(decisions[i]) for i in fresh])
        if len(fresh) == len(decisions):
            return await self._db.driver_transaction(write)
        results: dict[int, Written] = {}
        async with self._db.transaction() as connection:
            if fresh:
                results.update(zip(fresh, await run_on_driver(connection, write), strict=True))
            rest = [index for index in range(len(decisions)) if index not in results]
            others = _unprepared([decisions[index] for index in rest])
            written = await write_decisions(connection, others)
            results.update(zip(rest, written, strict=True))
        return [results[index] for index in range(len(decisions))]

    async def find(self, organization_name: str, report_id: str) -> StoredReport | None:
        """The stored report with this key (compared folded, like the dedupe key)."""
        key = dedupe_hash(_folded_key(organization_name, report_id))
        query = _report_columns().where(tlsrpt_reports.c.dedupe_key == key)
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else _stored_report(row)

    async def raw(self, raw_id: int) -> RawRecord | None:
        """The raw arrival ``raw_id`` with its bytes."""
        query = select(tlsrpt_raw).where(tlsrpt_raw.c.id == raw_id)
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        if row is None:
            return None
        return _raw_record(row, unpack(row.encoding, row.payload))

    async def quarantined(self, limit: int = 100, after: int = 0) -> list[RawRecord]:
        """Quarantined arrivals with an id above ``after``, oldest first (bytes not loaded)."""
        columns = [c for c in tlsrpt_raw.c if c.name != "payload"]
        query = (
            select(*columns)
            .where(tlsrpt_raw.c.state == QUARANTINED, tlsrpt_raw.c.id > after)
            .order_by(tlsrpt_raw.c.id)
            .limit(limit)
        )
        async with self._db.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_raw_record(row) for row in rows]

    async def quarantined_for(
        self, domain: str, limit: int = 100, before: int | None = None
    ) -> list[RawRecord]:
        """Quarantined arrivals sent for ``domain`` (or a name below it, e.g. an MX host of a
        DANE policy), with an id below ``before``, newest first (bytes not loaded)."""
        columns = [c for c in tlsrpt_raw.c if c.name != "payload"]
        query = select(*columns).where(tlsrpt_raw.c.state == QUARANTINED, _sent_for(domain))
        if before is not None:
            query = query.where(tlsrpt_raw.c.id < before)
        query = query.order_by(tlsrpt_raw.c.id.desc()).limit(limit)
        async with self._db.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_raw_record(row) for row in rows]

    async def quarantined_raw_for(self, domain: str, raw_id: int) -> RawRecord | None:
        """Quarantined arrival ``raw_id`` with its bytes, if it was sent for ``domain``."""
        query = select(tlsrpt_raw).where(
            tlsrpt_raw.c.id == raw_id, tlsrpt_raw.c.state == QUARANTINED, _sent_for(domain)
        )
        async with self._db.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else _raw_record(row, unpack(row.encoding, row.payload))

    async def quarantine_domains(self, raw_id: int) -> list[str]:
        """The served domains recorded for quarantined arrival ``raw_id``, sorted."""
        table = tlsrpt_quarantine_domains
        query = select(table.c.domain).where(table.c.raw_fk == raw_id).order_by(table.c.domain)
        async with self._db.connect() as connection:
            return list((await connection.execute(query)).scalars())

    async def delete_raw_before(self, cutoff: datetime, batch: int = 1000) -> int:
        """Delete raw arrivals received before ``cutoff``, ``batch`` rows per transaction.

        Reports and their rows stay; a report whose raw bytes are gone keeps its analysis.
        """
        deleted = 0
        while True:
            ids = (
                select(tlsrpt_raw.c.id)
                .where(tlsrpt_raw.c.received_at < cutoff)
                .order_by(tlsrpt_raw.c.id)
                .limit(batch)
                .scalar_subquery()
            )
            async with self._db.transaction() as connection:
                result = await connection.execute(
                    delete(tlsrpt_raw).where(tlsrpt_raw.c.id.in_(ids))
                )
            deleted += result.rowcount
            if result.rowcount < batch:
                return deleted


def _is_fresh(decision: Decision | PreparedReport) -> bool:
    """A new arrival of a report: what the SQLite batch writer takes."""
    return isinstance(decision, PreparedReport) or (
        isinstance(decision, KeepReport) and decision.raw is not None
    )


def _unprepared(decisions: Sequence[Decision | PreparedReport]) -> list[Decision]:
    """``decisions`` for the general writer, which takes no prepared rows (SQLite only)."""
    general = [d for d in decisions if not isinstance(d, PreparedReport)]
    if len(general) != len(decisions):
        raise TypeError("prepared reports are written on SQLite only")
    return general


def _prepared(decision: Decision | PreparedReport) -> PreparedReport:
    if isinstance(decision, PreparedReport):
        return decision
    assert isinstance(decision, KeepReport)
    assert decision.raw is not None
    return prepare(decision.report, decision.raw)


def _folded_key(organization_name: str, report_id: str) -> tuple[str, str]:
    """The key :attr:`TlsReport.dedupe_key` gives a report with these two members."""
    return TlsReport(organization_name, report_id, None, None, None, (), "").dedupe_key


def _sent_for(domain: str) -> ColumnElement[bool]:
    """The raw row has ``domain``, or a name below it, among its quarantine domains."""
    table = tlsrpt_quarantine_domains
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    below = table.c.domain.like(f"%.{escaped}", escape="\\")
    return exists().where(table.c.raw_fk == tlsrpt_raw.c.id, or_(table.c.domain == domain, below))


def _report_columns() -> Select[Any]:
    table = tlsrpt_reports
    return select(
        table.c.id,
        table.c.organization_name,
        table.c.report_id,
        table.c.copies,
        table.c.channels,
        table.c.received_at,
    )


def _stored_report(row: Any) -> StoredReport:
    return StoredReport(
        id=int(row.id),
        organization_name=row.organization_name,
        report_id=row.report_id,
        copies=int(row.copies),
        channels=channels_of(int(row.channels)),
        received_at=row.received_at,
    )


def _raw_record(row: Any, data: bytes = b"") -> RawRecord:
    return RawRecord(
        id=int(row.id),
        received_at=row.received_at,
        channel=row.channel,
        kind=row.kind,
        source=row.source,
        content_type=row.content_type,
        size=int(row.size),
        state=row.state,
        reason=row.reason,
        detail=row.detail,
        copies=int(row.copies),
        report_id=None if row.report_fk is None else int(row.report_fk),
        data=data,
    )
