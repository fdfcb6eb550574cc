"""What the report repository writes: the decisions, their results, and the rows they become.

Values here are plain data; :mod:`~mailshield.storage.report_writes` turns them into statements.
Text bound for the database loses NUL characters (PostgreSQL ``text`` and ``jsonb`` refuse
them; reports are untrusted JSON and may carry ``\\u0000``).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, overload

from mailshield.core.documents.archive import ArchiveKind, detect_kind
from mailshield.core.documents.tls_report_model import TlsReport
from mailshield.core.model import JSONValue

__all__ = [
    "CHANNEL_BITS",
    "DUPLICATE",
    "QUARANTINED",
    "SPLIT",
    "STORED",
    "KeepReport",
    "Quarantine",
    "RawArrival",
    "Split",
    "Written",
    "channels_of",
    "dedupe_hash",
    "failure_rows",
    "pack",
    "policy_rows",
    "raw_values",
    "report_values",
    "unpack",
]

CHANNEL_BITS = {"https": 1, "smtp": 2, "imap": 4, "file": 8}
STORED, DUPLICATE, QUARANTINED, SPLIT = "stored", "duplicate", "quarantined", "split"


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
    """Keep bytes that could not be parsed, with the reason (or update ``raw_id``'s), and the
    served ``domains`` they were sent for (added to those already recorded)."""

    reason: str
    detail: str
    raw: RawArrival | None = None
    raw_id: int | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Split:
    """A quarantined message whose report parts were kept on their own: state ``split``."""

    raw_id: int
    detail: str


Decision = KeepReport | Quarantine | Split


@dataclass(frozen=True, slots=True)
class Written:
    """What one decision became: ``stored``, ``duplicate``, ``quarantined`` or ``split``."""

    state: str
    report_id: int | None
    raw_id: int | None
    copies: int


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


def report_values(decision: KeepReport) -> dict[str, Any]:
    """The ``tlsrpt_reports`` row of a report seen for the first time."""
    report = decision.report
    return {
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


def policy_rows(report_id: int, report: TlsReport) -> list[dict[str, Any]]:
    """The ``tlsrpt_policies`` rows of a stored report, one per ``policies`` entry."""
    return [
        {
            "report_fk": report_id,
            "position": position,
            "policy_type": _text(policy.policy_type),
            "policy_domain": _text(policy.domain),
            "policy_strings": _texts(policy.policy_strings),
            "mx_hosts": _texts(policy.mx_hosts),
            "successful_sessions": policy.successful_sessions,
            "failed_sessions": policy.failed_sessions,
        }
        for position, policy in enumerate(report.policies)
    ]


def failure_rows(report_id: int, report: TlsReport) -> list[dict[str, Any]]:
    """The ``tlsrpt_failures`` rows of a stored report, one per ``failure-details`` entry."""
    return [
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
        for position, policy in enumerate(report.policies)
        for detail in policy.failure_details
    ]


def raw_values(
    raw: RawArrival,
    state: str,
    *,
    report_id: int | None = None,
    reason: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """The ``tlsrpt_raw`` row of an arrival: its bytes compressed, its state."""
    encoding, payload = pack(raw.data)
    return {
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


@overload
def _text(value: str) -> str: ...
@overload
def _text(value: None) -> None: ...
@overload
def _text(value: str | None) -> str | None: ...
def _text(value: str | None) -> str | None:
    """``value`` without NUL characters."""
    return value.replace("\x00", "\ufffd") if value and "\x00" in value else value


def _texts(values: tuple[str, ...]) -> list[str]:
    """``values`` as a list without NUL characters (one C-speed scan when there are none)."""
    if "\x00" in "".join(values):
        return [_text(value) for value in values]
    return list(values)


def _nul_free(value: Any) -> Any:
    """A JSON value with NUL characters replaced in every string (keys included)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_nul_free(item) for item in value]
    if isinstance(value, dict):
        return {_text(str(k)): _nul_free(v) for k, v in value.items()}
    return value


def _day(moment: datetime) -> datetime:
    """Midnight UTC of the day ``moment`` falls on."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)
