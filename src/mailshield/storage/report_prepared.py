"""A new report's SQLite rows, built before the write (in a bulk import's worker processes).

:func:`prepare` turns a parsed report and its raw arrival into a :class:`PreparedReport`:
plain tuples in the column order of :data:`REPORT_COLUMNS`, :data:`POLICY_COLUMNS`,
:data:`FAILURE_COLUMNS` and :data:`RAW_COLUMNS`, with every value already in the form SQLite
stores (UTC datetimes as SQLAlchemy's DATETIME text, JSON documents as text, NUL characters
replaced, the raw bytes compressed and hashed). Tuples of strings and numbers cross a process
boundary about ten times cheaper than the parse objects, and the writer
(:mod:`~mailshield.storage.report_writes_sqlite`) only adds the ids and inserts.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from mailshield.core.documents.tls_report_model import TlsReport
from mailshield.storage.report_rows import (
    CHANNEL_BITS,
    STORED,
    RawArrival,
    _day,
    _nul_free,
    _text,
    _texts,
    dedupe_hash,
    pack,
    unpack,
)

_encode_string = json.encoder.encode_basestring_ascii  # what json.dumps uses (ensure_ascii)

__all__ = [
    "FAILURE_COLUMNS",
    "POLICY_COLUMNS",
    "RAW_COLUMNS",
    "REPORT_COLUMNS",
    "PreparedReport",
    "json_strings",
    "prepare",
    "sqlite_datetime",
]

# The columns each tuple fills, in order; ids and the report reference are the writer's.
REPORT_COLUMNS = (
    "dedupe_key",
    "organization_name",
    "report_id",
    "contact_info",
    "start_at",
    "end_at",
    "day_at",
    "fingerprint",
    "received_at",
    "last_seen_at",
    "copies",
    "channels",
    "notes",
)
POLICY_COLUMNS = (
    "position",
    "policy_type",
    "policy_domain",
    "policy_strings",
    "mx_hosts",
    "successful_sessions",
    "failed_sessions",
)
FAILURE_COLUMNS = (
    "position",
    "result_type",
    "failed_sessions",
    "sending_mta_ip",
    "receiving_mx_hostname",
    "receiving_mx_helo",
    "receiving_ip",
    "additional_information",
    "failure_reason_code",
)
RAW_COLUMNS = (
    "received_at",
    "channel",
    "kind",
    "source",
    "content_type",
    "size",
    "sha256",
    "encoding",
    "payload",
    "state",
    "reason",
    "detail",
    "copies",
    "meta",
)


class PreparedReport(NamedTuple):
    """A new report ready to insert, plus what its outcome names (organisation, report-id,
    policy domains). ``key`` is the dedupe key; ``received_at`` the arrival time as stored."""

    key: str
    report: tuple[Any, ...]
    policies: tuple[tuple[Any, ...], ...]
    failures: tuple[tuple[Any, ...], ...]
    raw: tuple[Any, ...]
    channel: str
    received_at: str
    organization: str
    report_key: str
    domains: tuple[str, ...]

    def arrival(self) -> RawArrival:
        """The raw arrival back (for the rare fallback that quarantines it instead)."""
        values = dict(zip(RAW_COLUMNS, self.raw, strict=True))
        data = unpack(values["encoding"], values["payload"])
        received = datetime.fromisoformat(self.received_at).replace(tzinfo=UTC)
        meta = json.loads(values["meta"]) if values["meta"] is not None else None
        return RawArrival(
            data, self.channel, received, values["kind"], values["source"],
            values["content_type"], meta,
        )  # fmt: skip


def prepare(report: TlsReport, raw: RawArrival) -> PreparedReport:
    """The rows of ``report``, first seen in ``raw``, in SQLite's stored form."""
    received = sqlite_datetime(raw.received_at)
    assert received is not None
    key = dedupe_hash(report.dedupe_key)
    start = report.start
    row = (
        key,
        _text(report.organization_name),
        _text(report.report_id),
        _text(report.contact_info),
        sqlite_datetime(start),
        sqlite_datetime(report.end),
        _day_text(start or raw.received_at),
        report.fingerprint,
        received,
        received,
        1,
        CHANNEL_BITS[raw.channel],
        json.dumps(_nul_free([note.to_dict() for note in report.notes])) if report.notes else "[]",
    )
    policies, failures = _children(report)
    return PreparedReport(
        key,
        row,
        policies,
        failures,
        _raw(raw, received),
        raw.channel,
        received,
        report.organization_name,
        report.report_id,
        report.policy_domains,
    )


def _children(report: TlsReport) -> tuple[tuple[tuple[Any, ...], ...], tuple[tuple[Any, ...], ...]]:
    """The policy rows and the failure rows of ``report``; a failure row's position is its
    policy's."""
    policies: list[tuple[Any, ...]] = []
    failures: list[tuple[Any, ...]] = []
    for position, policy in enumerate(report.policies):
        policies.append(
            (
                position,
                _text(policy.policy_type),
                _text(policy.domain),
                _json_texts(policy.policy_strings),
                _json_texts(policy.mx_hosts),
                policy.successful_sessions,
                policy.failed_sessions,
            )
        )
        failures += [
            (
                position,
                _text(detail.result_type),
                detail.failed_session_count,
                _text(detail.sending_mta_ip),
                _text(detail.receiving_mx_hostname),
                _text(detail.receiving_mx_helo),
                _text(detail.receiving_ip),
                _text(detail.additional_information),
                _text(detail.failure_reason_code),
            )
            for detail in policy.failure_details
        ]
    return tuple(policies), tuple(failures)


def _raw(raw: RawArrival, received: str) -> tuple[Any, ...]:
    data = raw.data
    encoding, payload = pack(data)
    meta = json.dumps(_nul_free(dict(raw.meta))) if raw.meta else None
    return (
        received,
        raw.channel,
        raw.kind,
        _text(raw.source),
        _text(raw.content_type),
        len(data),
        hashlib.sha256(data).hexdigest(),
        encoding,
        payload,
        STORED,
        None,
        None,
        1,
        meta,
    )


def json_strings(values: list[str]) -> str:
    """``json.dumps(values)`` for a list of strings, without the encoder's set-up per call
    (the C string encoder joined with the default separator)."""
    return "[" + ", ".join(map(_encode_string, values)) + "]"


@functools.lru_cache(maxsize=4096)
def _json_texts(values: tuple[str, ...]) -> str:
    """The stored JSON text of a policy's strings or MX patterns, NUL-free (cached: a
    domain's reports repeat its policy)."""
    return json_strings(_texts(values))


@functools.lru_cache(maxsize=4096)
def _day_text(moment: datetime) -> str | None:
    """The stored ``day_at`` of an instant: midnight UTC of its day (cached, as instants
    repeat)."""
    return sqlite_datetime(_day(moment))


@functools.lru_cache(maxsize=4096)
def sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DATETIME text of a UTC instant (what ``UTCDateTime`` stores).

    Cached: a batch repeats the same instants (report days, arrival times), and aware
    datetimes hash and compare by the instant they name.
    """
    if value is None:
        return None
    v = value.astimezone(UTC)  # SQLAlchemy's format: every field zero-padded, years too
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )
