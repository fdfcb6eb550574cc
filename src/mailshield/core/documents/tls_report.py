"""Parsing a received SMTP TLS report (RFC 8460) from untrusted bytes. Sans-IO, never raises.

``parse_tls_report(data, limits)`` takes the bytes as they arrived (gzip, plain JSON, or — leniently
— a zip archive) and returns a :class:`TlsReportParse` holding either the normalised
:class:`TlsReport` with its notes, or a :class:`ParseFailure` with a stable reason, so the caller
can quarantine the raw bytes with it. The steps, each bounded by :class:`ReportLimits`:

1. input size (``too_large``);
2. container by magic bytes, bounded inflate (``bad_gzip``, ``bad_zip``, ``decompression_bomb``,
   ``too_large``), RFC 8460 §5.2;
3. UTF-8 text (``not_utf8``), RFC 7493 §2.1;
4. JSON with duplicate-name detection and a depth cap (``bad_json``, ``too_deep``),
   RFC 8259, RFC 7493 §2.3;
5. the RFC 8460 §4.4 schema, tolerant of real reporters (``wrong_schema``,
   ``missing_report_id``, ``too_large``).

Steps 2, 4 and 5 are first tried on the strict fast path
(:mod:`~mailshield.core.documents.tls_report_strict`), which yields the very same report for a
well-formed one and leaves anything unusual to the tolerant steps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mailshield.core.catalogue import tls_report as note
from mailshield.core.documents.archive import (
    ArchiveError,
    ArchiveKind,
    DecompressionLimit,
    expand,
)
from mailshield.core.documents.json_text import JsonProblem, load_json
from mailshield.core.documents.notes import NoteLog
from mailshield.core.documents.tls_report_model import (
    KNOWN_POLICY_TYPES,
    KNOWN_RESULT_TYPES,
    FailureDetail,
    FailureReason,
    ParseFailure,
    ReportLimits,
    ReportPolicy,
    TlsReport,
)
from mailshield.core.documents.tls_report_schema import read_report
from mailshield.core.documents.tls_report_strict import inflate_strict, read_strict
from mailshield.core.model import Finding

__all__ = [
    "DEFAULT_LIMITS",
    "KNOWN_POLICY_TYPES",
    "KNOWN_RESULT_TYPES",
    "FailureDetail",
    "FailureReason",
    "ParseFailure",
    "ReportLimits",
    "ReportPolicy",
    "TlsReport",
    "TlsReportParse",
    "parse_tls_report",
]

DEFAULT_LIMITS = ReportLimits()
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class TlsReportParse:
    """The outcome of parsing one report: exactly one of ``report`` and ``failure`` is set."""

    report: TlsReport | None = None
    failure: ParseFailure | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None

    @property
    def notes(self) -> tuple[Finding, ...]:
        """The report's notes, or those made before the report was refused."""
        if self.report is not None:
            return self.report.notes
        return self.failure.notes if self.failure is not None else ()


def parse_tls_report(data: bytes, limits: ReportLimits = DEFAULT_LIMITS) -> TlsReportParse:
    """Parse one TLS-RPT report from the bytes received (RFC 8460 §4, §5).

    Never raises: every problem is a :class:`ParseFailure`. ``internal_error`` would mean a bug
    in this parser and is kept only so that one bad report cannot stop an ingest run.
    """
    try:
        outcome = _parse(bytes(data), limits)
    except Exception as exc:  # the no-raise contract; tests assert it never fires
        outcome = ParseFailure(FailureReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
    if isinstance(outcome, ParseFailure):
        return TlsReportParse(failure=outcome)
    return TlsReportParse(report=outcome)


def _parse(data: bytes, limits: ReportLimits) -> TlsReport | ParseFailure:
    notes = NoteLog()
    if len(data) > limits.max_compressed_bytes:
        return ParseFailure(
            FailureReason.TOO_LARGE,
            f"{len(data)} bytes received, more than the limit of {limits.max_compressed_bytes}",
        )
    body = inflate_strict(data, limits.max_decompressed_bytes) or _expand(data, limits, notes)
    if isinstance(body, ParseFailure):
        return body
    fingerprint = hashlib.sha256(body).hexdigest()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ParseFailure(FailureReason.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}")
    if text.startswith(_BOM):
        notes.add(note.JSON_BOM, "report")
        text = text[1:]
    elif not notes:  # a well-formed report (nearly all) is read without the tolerant walk
        strict = read_strict(text, limits, fingerprint)
        if strict is not None:
            return strict
    loaded = load_json(text, limits.max_depth)
    if isinstance(loaded, JsonProblem):
        return ParseFailure(FailureReason(loaded.reason), loaded.detail, notes.findings())
    for key in loaded.duplicate_keys:
        notes.add(note.JSON_DUPLICATE_KEY, "report", group=key, key=key)
    if loaded.lone_surrogates:
        notes.add(note.JSON_LONE_SURROGATE, "report", times=loaded.lone_surrogates)
    return read_report(loaded.value, limits, notes, fingerprint)


def _expand(data: bytes, limits: ReportLimits, notes: NoteLog) -> bytes | ParseFailure:
    """The decompressed report body, or why it could not be had within the limits."""
    expanded = expand(data, limits.max_decompressed_bytes)
    if isinstance(expanded, DecompressionLimit):
        bomb = expanded.kind is not ArchiveKind.PLAIN and expanded.ratio >= limits.bomb_ratio
        reason = FailureReason.DECOMPRESSION_BOMB if bomb else FailureReason.TOO_LARGE
        return ParseFailure(
            reason,
            f"{expanded.kind} content exceeds {expanded.limit} bytes"
            f" (expanding about {expanded.ratio:.0f}:1); decompression stopped",
        )
    if isinstance(expanded, ArchiveError):
        return ParseFailure(FailureReason(expanded.reason), expanded.detail)
    if expanded.kind is ArchiveKind.ZIP:
        notes.add(note.CONTAINER_ZIP, "report")
    if expanded.trailing_bytes:
        notes.add(note.GZIP_TRAILING_DATA, "report", bytes=expanded.trailing_bytes)
    return expanded.data
