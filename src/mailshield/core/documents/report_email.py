"""Finding TLS-RPT reports inside a received e-mail (RFC 8460 §5.3). Sans-IO, never raises.

``extract_report_email(raw, limits)`` returns the report attachments (transfer encoding undone,
still gzip if they were gzip) with the RFC 8460 header fields, Subject and Message-ID, or a
failure (``too_large``, ``bad_mime``, ``no_report``). ``parse_report_email`` also parses each
attachment and cross-checks the headers against the JSON (:func:`crosscheck`).

Where a report is looked for, strict first (RFC 8460 §5.3, §6.4, §6.5)::

    multipart/report; report-type=tlsrpt          top level (else noted, looked for anyway)
      application/tlsrpt+gzip | application/tlsrpt+json        a report part
      application/gzip | application/x-gzip | application/json  accepted, noted
      any other type named *.json or *.json.gz                  accepted, noted

DKIM verification belongs to the caller and must run on the raw bytes before this (§5.3).
"""

from __future__ import annotations

import dataclasses
import email
import email.errors
import email.header
import email.policy
import email.utils
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from mailshield.core.catalogue import tls_report as note
from mailshield.core.documents.notes import NoteLog
from mailshield.core.documents.tls_report import (
    DEFAULT_LIMITS,
    ReportLimits,
    TlsReport,
    TlsReportParse,
    parse_tls_report,
)
from mailshield.core.findings import FindingSpec
from mailshield.core.model import Finding

__all__ = [
    "EmailFailure",
    "EmailFailureReason",
    "EmailLimits",
    "ParsedReportEmail",
    "ReportAttachment",
    "ReportEmail",
    "crosscheck",
    "extract_report_email",
    "parse_report_email",
]

MiB = 1024 * 1024
_STRICT_TYPES = frozenset({"application/tlsrpt+gzip", "application/tlsrpt+json"})
_LENIENT_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/json"})
_REPORT_SUFFIXES = (".json", ".json.gz")


@dataclass(frozen=True, slots=True)
class EmailLimits:
    """Bounds on one report message: its size, MIME parts walked, attachments kept."""

    max_message_bytes: int = 25 * MiB
    max_parts: int = 64
    max_attachments: int = 8
    max_attachment_bytes: int = 10 * MiB  # decoded; ReportLimits caps what it expands to


class EmailFailureReason(enum.StrEnum):
    """Why no report could be taken from a message; stable codes."""

    TOO_LARGE = "too_large"
    BAD_MIME = "bad_mime"
    NO_REPORT = "no_report"


@dataclass(frozen=True, slots=True)
class EmailFailure:
    """No report could be taken from the message: a stable ``reason`` and a readable detail."""

    reason: EmailFailureReason
    detail: str


@dataclass(frozen=True, slots=True)
class ReportAttachment:
    """One report part: its decoded bytes, declared media type and file name (a hint only,
    RFC 8460 §5.6), and its position among the message's parts."""

    content: bytes
    content_type: str
    filename: str | None
    part_index: int


@dataclass(frozen=True, slots=True)
class ReportEmail:
    """What a report message carries. Header values are ``None`` when absent; the two RFC 8460
    §5.3 header fields are lower-cased domains without a trailing dot."""

    attachments: tuple[ReportAttachment, ...]
    report_domain: str | None
    report_submitter: str | None
    subject: str | None
    message_id: str | None
    notes: tuple[Finding, ...] = ()
    failure: EmailFailure | None = None


@dataclass(frozen=True, slots=True)
class ParsedReportEmail:
    """A report message with every attachment parsed. Each parsed report's notes also carry
    the message's notes and the header cross-checks of :func:`crosscheck`, so a stored report
    keeps them."""

    email: ReportEmail
    reports: tuple[TlsReportParse, ...]


def extract_report_email(raw: bytes, limits: EmailLimits | None = None) -> ReportEmail:
    """The TLS-RPT attachments and report header fields of the message ``raw``."""
    limits = limits or EmailLimits()
    if len(raw) > limits.max_message_bytes:
        detail = f"{len(raw)} bytes, more than the limit of {limits.max_message_bytes}"
        return _failed(EmailFailureReason.TOO_LARGE, detail)
    try:
        message = email.message_from_bytes(bytes(raw), policy=email.policy.compat32)
        return _extract(message, limits)
    except Exception as exc:  # the stdlib e-mail package has crash bugs on hostile input
        return _failed(EmailFailureReason.BAD_MIME, f"{type(exc).__name__}: {exc}")


def parse_report_email(
    raw: bytes, limits: EmailLimits | None = None, report_limits: ReportLimits = DEFAULT_LIMITS
) -> ParsedReportEmail:
    """Extract the reports of ``raw`` and parse each one (RFC 8460 §5.3, §4)."""
    found = extract_report_email(raw, limits)
    parses = []
    for attachment in found.attachments:
        parsed = parse_tls_report(attachment.content, report_limits)
        if parsed.report is not None:
            extra = crosscheck(found, parsed.report)
            report = _with_notes(parsed.report, found.notes + extra)
            parsed = TlsReportParse(report=report)
        parses.append(parsed)
    return ParsedReportEmail(found, tuple(parses))


def crosscheck(found: ReportEmail, report: TlsReport) -> tuple[Finding, ...]:
    """Notes where the message's header fields disagree with the report (RFC 8460 §5.3: the
    submitter MUST be the domain of ``contact-info``; the JSON wins, §5.6)."""
    notes = NoteLog()
    contact = report.contact_domain
    submitter = found.report_submitter
    if submitter and contact and submitter != contact:
        notes.add(
            note.EMAIL_SUBMITTER_MISMATCH, "TLS-Report-Submitter", header=submitter, contact=contact
        )
    domains = report.policy_domains
    if found.report_domain and domains and found.report_domain not in domains:
        notes.add(
            note.EMAIL_DOMAIN_MISMATCH,
            "TLS-Report-Domain",
            header=found.report_domain,
            domains=", ".join(domains),
        )
    return notes.findings()


def _extract(message: Message, limits: EmailLimits) -> ReportEmail:
    notes = NoteLog()
    _check_top_level(message, notes)
    attachments: list[ReportAttachment] = []
    for index, part in _parts(message, limits, notes):
        attachment = _attachment(part, index, limits, notes)
        if attachment is None:
            continue
        if len(attachments) == limits.max_attachments:
            notes.add(note.EMAIL_TOO_MANY_PARTS, "message", limit=limits.max_attachments)
            break
        attachments.append(attachment)
    domain = _header_domain(message, "TLS-Report-Domain", note.EMAIL_DOMAIN_HEADER_MISSING, notes)
    submitter = _header_domain(
        message, "TLS-Report-Submitter", note.EMAIL_SUBMITTER_HEADER_MISSING, notes
    )
    failure = None
    if not attachments:
        failure = EmailFailure(EmailFailureReason.NO_REPORT, "no TLS-RPT report part was found")
    return ReportEmail(
        attachments=tuple(attachments),
        report_domain=domain,
        report_submitter=submitter,
        subject=_header_text(message, "Subject"),
        message_id=_header_text(message, "Message-ID"),
        notes=notes.findings(),
        failure=failure,
    )


def _check_top_level(message: Message, notes: NoteLog) -> None:
    """RFC 8460 §5.3: the message is multipart/report with report-type "tlsrpt"."""
    content_type = message.get_content_type()
    report_type = message.get_param("report-type")
    report_type = report_type if isinstance(report_type, str) else None
    if content_type != "multipart/report" or (report_type or "").strip().lower() != "tlsrpt":
        notes.add(
            note.EMAIL_NOT_MULTIPART_REPORT,
            "Content-Type",
            content_type=content_type,
            report_type=report_type,
        )


def _parts(message: Message, limits: EmailLimits, notes: NoteLog) -> Iterator[tuple[int, Message]]:
    """The leaf parts of ``message``, numbered, at most ``limits.max_parts`` parts walked."""
    for index, part in enumerate(message.walk()):
        if index >= limits.max_parts:
            notes.add(note.EMAIL_TOO_MANY_PARTS, "message", limit=limits.max_parts)
            return
        if not part.is_multipart():
            yield index, part


def _attachment(
    part: Message, index: int, limits: EmailLimits, notes: NoteLog
) -> ReportAttachment | None:
    content_type = part.get_content_type()
    filename = _filename(part)
    strict = content_type in _STRICT_TYPES
    named = filename is not None and filename.lower().endswith(_REPORT_SUFFIXES)
    if not (strict or content_type in _LENIENT_TYPES or named):
        return None
    where = f"part {index}"
    encoded = part.get_payload(decode=False)
    if not isinstance(encoded, str | bytes):
        return None
    if len(encoded) * 3 // 4 > limits.max_attachment_bytes:
        notes.add(note.EMAIL_PART_TOO_LARGE, where, limit=limits.max_attachment_bytes)
        return None
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes) or len(content) > limits.max_attachment_bytes:
        return None
    if not strict:
        notes.add(
            note.EMAIL_LENIENT_MEDIA_TYPE, where, content_type=content_type, filename=filename
        )
    return ReportAttachment(content, content_type, filename, index)


def _filename(part: Message) -> str | None:
    """The part's file name from Content-Disposition ``filename`` or Content-Type ``name``,
    RFC 2231 parameter encoding undone."""
    name = part.get_filename() or part.get_param("name")
    if isinstance(name, tuple):  # an RFC 2231 triple that get_filename did not collapse
        name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return None
    return _clean(str(name)) or None


def _header_text(message: Message, name: str) -> str | None:
    """A header field's value with RFC 2047 encoded words decoded and folding undone."""
    value = message.get(name)
    if value is None:
        return None
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        text = str(value)  # undecodable encoded words: keep them as written
    return _clean(" ".join(text.split())) or None


def _clean(text: str) -> str:
    """``text`` safe to store as UTF-8: undecodable bytes (surrogate escapes) become '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _header_domain(message: Message, name: str, missing: FindingSpec, notes: NoteLog) -> str | None:
    text = _header_text(message, name)
    if text is None:
        notes.add(missing, name)
        return None
    return text.strip().rstrip(".").lower() or None


def _failed(reason: EmailFailureReason, detail: str) -> ReportEmail:
    return ReportEmail((), None, None, None, None, failure=EmailFailure(reason, detail))


def _with_notes(report: TlsReport, extra: tuple[Finding, ...]) -> TlsReport:
    return dataclasses.replace(report, notes=report.notes + extra) if extra else report
