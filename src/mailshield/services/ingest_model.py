"""The vocabulary of the intake pipeline: channels, arrivals, outcomes, options, the domain port.

Receivers (HTTPS, SMTP, IMAP, file import) build an :class:`Arrival`, call
:class:`~mailshield.services.ingest.ReportIntake`, and answer from the :class:`Disposition` of
the :class:`IngestOutcome` (see the table in ``docs/reports.md``).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from mailshield.core.documents.report_email import EmailLimits
from mailshield.core.documents.tls_report import ReportLimits
from mailshield.core.model import JSONValue

__all__ = [
    "DURABLE",
    "Arrival",
    "Channel",
    "Disposition",
    "IngestOptions",
    "IngestOutcome",
    "KnownDomains",
    "MessageOutcome",
]


class Channel(enum.StrEnum):
    """How a report arrived."""

    HTTPS = "https"
    SMTP = "smtp"
    IMAP = "imap"
    FILE = "file"


class Disposition(enum.StrEnum):
    """What became of an arrival."""

    STORED = "stored"  # a new report, committed
    DUPLICATE = "duplicate"  # a known report: its copies counter was raised, committed
    QUARANTINED = "quarantined"  # unparseable: raw bytes and reason committed
    REFUSED = "refused"  # no policy domain MailShield serves: nothing kept
    TOO_LARGE = "too_large"  # over the size cap: nothing kept
    FAILED = "failed"  # storage failed: nothing acknowledged, the sender should retry


DURABLE = frozenset({Disposition.STORED, Disposition.DUPLICATE, Disposition.QUARANTINED})


class KnownDomains(Protocol):
    """Which policy domains MailShield serves (reports for others are refused, §3.6 item 16).

    ``served`` returns the subset of ``names`` that are served domains or names below one (a
    DANE policy domain is an MX host name, RFC 8460 §1.1).
    """

    async def served(self, names: Collection[str]) -> set[str]: ...


@dataclass(frozen=True, slots=True)
class Arrival:
    """Where some bytes came from: channel, peer or path, declared type, receiver metadata
    (e.g. the SMTP receiver's DKIM result), and when (default: now)."""

    channel: Channel
    source: str | None = None
    content_type: str | None = None
    received_at: datetime | None = None
    meta: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """The outcome of one report (or of bytes that were meant to be one)."""

    disposition: Disposition
    detail: str = ""
    reason: str | None = None  # the quarantine reason (a ParseFailure reason code)
    report_id: int | None = None  # stored report row
    raw_id: int | None = None  # raw arrival row
    copies: int = 0
    organization: str | None = None
    report_key: str | None = None  # the report's report-id
    domains: tuple[str, ...] = ()

    @property
    def durable(self) -> bool:
        """Committed to storage: the sender may be told it was received."""
        return self.disposition in DURABLE

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "status": self.disposition.value,
            "detail": self.detail,
            "reason": self.reason,
            "report": self.report_id,
            "raw": self.raw_id,
            "copies": self.copies,
            "organization-name": self.organization,
            "report-id": self.report_key,
            "policy-domains": list(self.domains),
        }


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """The outcomes of the reports in one e-mail message (usually one)."""

    outcomes: tuple[IngestOutcome, ...]

    @property
    def durable(self) -> bool:
        """Everything in the message is committed (acknowledge it: SMTP 250, IMAP move)."""
        return bool(self.outcomes) and all(o.durable for o in self.outcomes)

    @property
    def retry(self) -> bool:
        """Storage failed for some part: answer a temporary failure (SMTP 451)."""
        return any(o.disposition is Disposition.FAILED for o in self.outcomes)

    @property
    def refused(self) -> bool:
        """Nothing was kept and retrying would not change that (SMTP 550)."""
        return not self.durable and not self.retry


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """Limits and policy of the intake."""

    max_bytes: int = 10 * 1024 * 1024  # Settings.report_max_bytes: one report as received
    limits: ReportLimits = field(default_factory=ReportLimits)
    email_limits: EmailLimits = field(default_factory=EmailLimits)
    gated: frozenset[Channel] = frozenset({Channel.HTTPS, Channel.SMTP, Channel.IMAP})
    batch_size: int = 256  # reports per write transaction at most
    known_ttl: float = 60.0  # seconds a served domain is remembered

    @classmethod
    def for_max_bytes(cls, max_bytes: int, batch_size: int = 256) -> IngestOptions:
        """Options whose size caps all follow one setting (``report_max_bytes``): the report as
        received, the report decompressed, a report part, and twice that for a whole message."""
        limits = replace(
            ReportLimits(), max_compressed_bytes=max_bytes, max_decompressed_bytes=max_bytes
        )
        email = replace(
            EmailLimits(), max_message_bytes=2 * max_bytes, max_attachment_bytes=max_bytes
        )
        return cls(max_bytes=max_bytes, limits=limits, email_limits=email, batch_size=batch_size)
