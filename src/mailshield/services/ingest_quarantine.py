"""Quarantined TLS reports of a dashboard user's domain: list, download, re-process.

A quarantined arrival belongs to the domains recorded for it when it was kept
(:mod:`~mailshield.services.ingest_hints`). Its owner sees it under the same rule as the
domain's TLS reports (:class:`~mailshield.services.dashboard_hosting.DomainHosting`): the domain
must be one of the acting user's (else :class:`NotFound`) with its ownership proven (else
:class:`OwnershipRequired`). An arrival not recorded for that domain is :class:`NotFound`, like
one that does not exist, so ids reveal nothing across tenants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mailshield.core.documents.archive import ArchiveKind, detect_kind
from mailshield.services.account_domains import Domain, UserDomains
from mailshield.services.account_errors import NotFound, OwnershipRequired
from mailshield.services.ingest_model import IngestOutcome
from mailshield.services.users import User
from mailshield.storage.reports import RawRecord, ReportStore

__all__ = [
    "REASON_TEXTS",
    "DomainQuarantine",
    "QuarantinedFile",
    "QuarantinedReport",
    "Reprocessor",
    "reason_text",
]

MAX_PAGE = 200

REASON_TEXTS = {
    "too_large": "The report is larger than this instance accepts.",
    "decompression_bomb": "The compressed report expands far beyond the size limit.",
    "bad_gzip": "The gzip compression is damaged or the file was cut short.",
    "bad_zip": "The zip archive is damaged or uses an unsupported method.",
    "not_utf8": "The report is not UTF-8 text.",
    "bad_json": "The report is not valid JSON.",
    "too_deep": "The JSON is nested more deeply than a report ever is.",
    "wrong_schema": "The JSON is not a TLS report (RFC 8460 §4.4): members are missing or wrong.",
    "missing_report_id": "The report has no report-id (RFC 8460 §4.4).",
    "internal_error": "MailShield could not read it (a fault on our side; re-process later).",
    "email_too_large": "The report e-mail is larger than this instance accepts.",
    "email_bad_mime": "The report e-mail is not well-formed MIME.",
    "email_no_report": "The e-mail carries no TLS report attachment (RFC 8460 §5.3).",
}


def reason_text(reason: str | None) -> str:
    """The quarantine ``reason`` code in plain words."""
    return REASON_TEXTS.get(reason or "", "The report could not be read.")


class Reprocessor(Protocol):
    """The process's intake pipeline, as far as re-processing goes."""

    async def reprocess(self, raw_id: int) -> IngestOutcome: ...


@dataclass(frozen=True, slots=True)
class QuarantinedReport:
    """One quarantined arrival as its owner sees it."""

    id: int
    received_at: datetime
    channel: str
    kind: str  # "report" bytes, or a whole e-mail "message"
    reason: str
    detail: str
    size: int
    copies: int

    @property
    def reason_text(self) -> str:
        return reason_text(self.reason)


@dataclass(frozen=True, slots=True)
class QuarantinedFile:
    """The bytes of a quarantined arrival, exactly as they arrived, with a download name."""

    id: int
    data: bytes
    filename: str


def _report(record: RawRecord) -> QuarantinedReport:
    return QuarantinedReport(
        id=record.id,
        received_at=record.received_at,
        channel=record.channel,
        kind=record.kind,
        reason=record.reason or "",
        detail=record.detail or "",
        size=record.size,
        copies=record.copies,
    )


def download_name(record: RawRecord) -> str:
    """``quarantined-<id>`` with the extension of what the bytes are (never .html)."""
    if record.kind == "message":
        return f"quarantined-{record.id}.eml"
    kind = detect_kind(record.data)
    extension = {ArchiveKind.GZIP: "json.gz", ArchiveKind.ZIP: "zip"}.get(kind, "json")
    return f"quarantined-{record.id}.{extension}"


class DomainQuarantine:
    """Quarantined reports of the acting user's verified domains."""

    def __init__(self, domains: UserDomains, store: ReportStore) -> None:
        self._domains = domains
        self._store = store

    async def _verified(self, actor: User, domain_id: int) -> Domain:
        domain = await self._domains.get(actor, domain_id)
        if not domain.ownership.verified:
            raise OwnershipRequired(
                f"Prove that {domain.name} is yours first: publish its TXT record and look again."
            )
        return domain

    async def _record(self, actor: User, domain_id: int, raw_id: int) -> RawRecord:
        domain = await self._verified(actor, domain_id)
        record = await self._store.quarantined_raw_for(domain.name, raw_id)
        if record is None:
            raise NotFound("No such quarantined report for this domain.")
        return record

    async def entries(
        self, actor: User, domain_id: int, *, limit: int = 50, before: int | None = None
    ) -> list[QuarantinedReport]:
        """The domain's quarantined reports with an id below ``before``, newest first."""
        domain = await self._verified(actor, domain_id)
        size = max(1, min(limit, MAX_PAGE))
        records = await self._store.quarantined_for(domain.name, size, before)
        return [_report(record) for record in records]

    async def download(self, actor: User, domain_id: int, raw_id: int) -> QuarantinedFile:
        """The bytes of one of the domain's quarantined reports, as they arrived."""
        record = await self._record(actor, domain_id, raw_id)
        return QuarantinedFile(record.id, record.data, download_name(record))

    async def reprocess(
        self, actor: User, domain_id: int, raw_id: int, intake: Reprocessor
    ) -> IngestOutcome:
        """Parse one of the domain's quarantined reports again; what became of it."""
        record = await self._record(actor, domain_id, raw_id)
        return await intake.reprocess(record.id)
