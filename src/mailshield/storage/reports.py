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

Both also resolve an existing raw row when ``raw_id`` is set (reprocessing).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, overload

from sqlalchemy import Select, case, delete, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailshield.core.documents.archive import ArchiveKind, detect_kind
from mailshield.core.documents.tls_report_model import TlsReport
from mailshield.core.model import JSONValue
from mailshield.storage.database import Database
from mailshield.storage.report_tables import (
    tlsrpt_failures,
    tlsrpt_policies,
    tlsrpt_raw,
    tlsrpt_reports,
)

__all__ = [
    "CHANNEL_BITS",
    "KeepReport",
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

CHANNEL_BITS = {"https": 1, "smtp": 2, "imap": 4, "file": 8}
STORED, DUPLICATE, QUARANTINED, SPLIT = "stored", "duplicate", "quarantined", "split"


def dedupe_hash(key: tuple[str, str]) -> str:
    """The stored form of a report's (organization-name, report-id) key: SHA-256 hex."""
    organization, report_id = key
    return hashlib.sha256(f"{organization}\0{report_id}".encode()).hexdigest()


def channels_of(mask: int) -> tuple[str, ...]:
    """The channel names set in a ``channels`` bit mask."""
    return tuple(name for name, bit in CHANNEL_BITS.items() if mask & bit)


def pack(data: bytes) -> tuple[str, bytes]:
    """``(encoding, payload)``: gzip and zip arrive compressed and stay as they are."""
    if detect_kind(data) is not ArchiveKind.PLAIN:
        return "identity", data
    return "gzip", gzip.compress(data, compresslevel=6, mtime=0)


def unpack(encoding: str, payload: bytes) -> bytes:
    """The bytes as they arrived (our own gzip, so of a size we already accepted)."""
    return gzip.decompress(payload) if encoding == "gzip" else payload


@dataclass(frozen=True, slots=True)
class RawArrival:
    """Bytes as they arrived on a channel (``kind`` ``report``, or a whole ``message``)."""

    data: bytes
    channel: str
    received_at: datetime
    kind: str = "report"
    source: str | None = None
    content_type: str | None = None
    meta: Mapping[str, JSONValue] | None = None


@dataclass(frozen=True, slots=True)
class KeepReport:
    """Store ``report`` (or count it as a copy); keep ``raw`` bytes, or resolve ``raw_id``."""

    report: TlsReport
    channel: str
    received_at: datetime
    raw: RawArrival | None = None
    raw_id: int | None = None


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Keep bytes that could not be parsed, with the reason (or update ``raw_id``'s)."""

    reason: str
    detail: str
    raw: RawArrival | None = None
    raw_id: int | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """A quarantined message whose report parts were kept on their own: state ``split``."""

    raw_id: int
    detail: str


@dataclass(frozen=True, slots=True)
class Written:
    """What one decision became: ``stored``, ``duplicate`` or ``quarantined``."""

    state: str
    report_id: int | None
    raw_id: int | None
    copies: int


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

    async def write(self, decisions: Sequence[KeepReport | Quarantine | Split]) -> list[Written]:
        """Apply ``decisions`` in one transaction; when this returns, all are committed."""
        async with self._db.transaction() as connection:
            writer = _Writer(connection)
            return [await writer.apply(decision) for decision in decisions]

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


class _Writer:
    """The statements of one write transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection
        self._dialect = connection.dialect.name

    async def apply(self, decision: KeepReport | Quarantine | Split) -> Written:
        if isinstance(decision, KeepReport):
            return await self._keep(decision)
        if isinstance(decision, Split):
            await self._c.execute(
                update(tlsrpt_raw)
                .where(tlsrpt_raw.c.id == decision.raw_id)
                .values(state=SPLIT, detail=decision.detail)
            )
            return Written(SPLIT, None, decision.raw_id, 1)
        return await self._quarantine(decision)

    async def _keep(self, decision: KeepReport) -> Written:
        report = decision.report
        report_id = await self._insert_report(decision)
        if report_id is None:
            report_id, copies = await self._count_copy(decision)
            raw_id = await self._resolve(decision.raw_id, DUPLICATE, report_id)
            return Written(DUPLICATE, report_id, raw_id, copies)
        await self._insert_rows(report_id, report)
        if decision.raw is not None:
            raw_id = await self._insert_raw(decision.raw, STORED, report_id=report_id)
        else:
            raw_id = await self._resolve(decision.raw_id, STORED, report_id)
        return Written(STORED, report_id, raw_id, 1)

    async def _insert_report(self, decision: KeepReport) -> int | None:
        report = decision.report
        values = {
            "dedupe_key": dedupe_hash(report.dedupe_key),
            "organization_name": _text(report.organization_name),
            "report_id": _text(report.report_id),
            "contact_info": _text(report.contact_info),
            "start_at": report.start,
            "end_at": report.end,
            "day_at": _day(report.start or decision.received_at),
            "fingerprint": report.fingerprint,
            "received_at": decision.received_at,
            "last_seen_at": decision.received_at,
            "copies": 1,
            "channels": CHANNEL_BITS[decision.channel],
            "notes": _nul_free([note.to_dict() for note in report.notes]),
        }
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        statement = (
            dialect.insert(tlsrpt_reports)
            .values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(tlsrpt_reports.c.id)
        )
        return (await self._c.execute(statement)).scalar_one_or_none()

    async def _count_copy(self, decision: KeepReport) -> tuple[int, int]:
        table = tlsrpt_reports
        seen = decision.received_at
        statement = (
            update(table)
            .where(table.c.dedupe_key == dedupe_hash(decision.report.dedupe_key))
            .values(
                copies=table.c.copies + 1,
                channels=table.c.channels.op("|")(CHANNEL_BITS[decision.channel]),
                last_seen_at=case(
                    (table.c.last_seen_at < seen, literal(seen, table.c.last_seen_at.type)),
                    else_=table.c.last_seen_at,
                ),
            )
            .returning(table.c.id, table.c.copies)
        )
        row = (await self._c.execute(statement)).one()
        return int(row.id), int(row.copies)

    async def _insert_rows(self, report_id: int, report: TlsReport) -> None:
        policies = []
        failures = []
        for position, policy in enumerate(report.policies):
            policies.append(
                {
                    "report_fk": report_id,
                    "position": position,
                    "policy_type": _text(policy.policy_type),
                    "policy_domain": _text(policy.domain),
                    "policy_strings": _nul_free(list(policy.policy_strings)),
                    "mx_hosts": _nul_free(list(policy.mx_hosts)),
                    "successful_sessions": policy.successful_sessions,
                    "failed_sessions": policy.failed_sessions,
                }
            )
            for detail in policy.failure_details:
                failures.append(
                    {
                        "report_fk": report_id,
                        "position": position,
                        "result_type": _text(detail.result_type),
                        "failed_sessions": detail.failed_session_count,
                        "sending_mta_ip": _text(detail.sending_mta_ip),
                        "receiving_mx_hostname": _text(detail.receiving_mx_hostname),
                        "receiving_mx_helo": _text(detail.receiving_mx_helo),
                        "receiving_ip": _text(detail.receiving_ip),
                        "additional_information": _text(detail.additional_information),
                        "failure_reason_code": _text(detail.failure_reason_code),
                    }
                )
        if policies:
            await self._c.execute(insert(tlsrpt_policies), policies)
        if failures:
            await self._c.execute(insert(tlsrpt_failures), failures)

    async def _quarantine(self, decision: Quarantine) -> Written:
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
        raw_id = await self._insert_raw(
            decision.raw, QUARANTINED, reason=decision.reason, detail=decision.detail
        )
        return Written(QUARANTINED, None, raw_id, 1)

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

    async def _insert_raw(
        self,
        raw: RawArrival,
        state: str,
        *,
        report_id: int | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> int:
        encoding, payload = pack(raw.data)
        values = {
            "received_at": raw.received_at,
            "channel": raw.channel,
            "kind": raw.kind,
            "source": _text(raw.source),
            "content_type": _text(raw.content_type),
            "size": len(raw.data),
            "sha256": hashlib.sha256(raw.data).hexdigest(),
            "encoding": encoding,
            "payload": payload,
            "state": state,
            "reason": reason,
            "detail": _text(detail),
            "copies": 1,
            "meta": _nul_free(dict(raw.meta)) if raw.meta else None,
            "report_fk": report_id,
        }
        statement = insert(tlsrpt_raw).values(values).returning(tlsrpt_raw.c.id)
        return int((await self._c.execute(statement)).scalar_one())

    async def _resolve(self, raw_id: int | None, state: str, report_id: int) -> int | None:
        if raw_id is None:
            return None
        await self._c.execute(
            update(tlsrpt_raw)
            .where(tlsrpt_raw.c.id == raw_id)
            .values(state=state, report_fk=report_id, reason=None, detail=None)
        )
        return raw_id


@overload
def _text(value: str) -> str: ...
@overload
def _text(value: None) -> None: ...
@overload
def _text(value: str | None) -> str | None: ...
def _text(value: str | None) -> str | None:
    """``value`` without NUL characters, which PostgreSQL text and jsonb refuse."""
    return value.replace("\x00", "\ufffd") if value and "\x00" in value else value


def _nul_free(value: Any) -> Any:
    """A JSON value with NUL characters replaced in every string (keys included)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_nul_free(item) for item in value]
    if isinstance(value, dict):
        return {_text(str(k)): _nul_free(v) for k, v in value.items()}
    return value


def _folded_key(organization_name: str, report_id: str) -> tuple[str, str]:
    """The key :attr:`TlsReport.dedupe_key` gives a report with these two members."""
    return TlsReport(organization_name, report_id, None, None, None, (), "").dedupe_key


def _day(moment: datetime) -> datetime:
    """Midnight UTC of the day ``moment`` falls on."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


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
