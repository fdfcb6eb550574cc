"""A strict fast path for well-formed TLS-RPT reports (RFC 8460 §4.4), beside the tolerant walk.

:func:`read_strict` decodes the JSON text straight into typed structs (msgspec, in C) and turns
them into the same :class:`TlsReport` the tolerant walk
(:mod:`~mailshield.core.documents.tls_report_schema`) would build — for a report the walk
would accept *without a single note*. Anything else returns ``None`` and the caller takes the
tolerant path, which explains every deviation. "Anything else" is decided cheaply and on the
safe side: an unknown member, a missing member the walk would note, a value the walk would
change with a note (upper case, a trailing dot, counts as strings, an empty or over-long
string, a reversed date range …), any backslash in the text, a depth cap below the schema's.

Repeated member names (RFC 8259 §4; the walk notes them, RFC 7493 §2.3) must not slip
through, yet the struct decoder keeps the last of two without saying so. With no backslash
in the text, every ``"`` delimits a string token, so the text holds exactly twice as many
quotes as tokens; every member name and every string value decoded is a distinct token, and
a repeated name (or a value the decoder dropped with it) adds tokens beyond those. So the
report is accepted only when the quotes number exactly twice the names and strings decoded.
"""

from __future__ import annotations

import functools
import zlib
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Struct, UnsetType

from mailshield.core.documents.archive import GZIP_MAGIC
from mailshield.core.documents.tls_report_model import (
    KNOWN_POLICY_TYPES,
    KNOWN_RESULT_TYPES,
    FailureDetail,
    ReportLimits,
    ReportPolicy,
    TlsReport,
)
from mailshield.core.documents.tls_report_values import (
    MAX_COUNT,
    Quirk,
    canonical_ip,
    normalise_host,
    read_datetime,
)

__all__ = ["STRICT_DEPTH", "inflate_strict", "read_strict"]

STRICT_DEPTH = 5  # report { policies [ entry { policy { policy-string [ — the deepest nesting

# Optional members: absent (UNSET), JSON null (None), or a value.
_Text = str | UnsetType | None
# RFC 8460 §4.4 session counts, within RFC 7493 §2.2's interoperable range (checked in C).
_Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
_Strings = list[str] | UnsetType | None


class _Detail(Struct, rename="kebab", forbid_unknown_fields=True):
    result_type: str
    sending_mta_ip: str
    receiving_mx_hostname: str
    receiving_ip: str
    failed_session_count: _Count
    receiving_mx_helo: _Text = UNSET
    additional_information: _Text = UNSET
    failure_reason_code: _Text = UNSET


class _Policy(Struct, rename="kebab", forbid_unknown_fields=True):
    policy_type: str
    policy_domain: str
    policy_string: _Strings = UNSET
    mx_host: _Strings = UNSET


class _Summary(Struct, rename="kebab", forbid_unknown_fields=True):
    total_successful_session_count: _Count
    total_failure_session_count: _Count


_Details = list[_Detail] | UnsetType | None


class _Entry(Struct, rename="kebab", forbid_unknown_fields=True):
    policy: _Policy
    summary: _Summary
    failure_details: _Details = UNSET


class _DateRange(Struct, rename="kebab", forbid_unknown_fields=True):
    start_datetime: str
    end_datetime: str


class _Report(Struct, rename="kebab", forbid_unknown_fields=True):
    organization_name: str
    date_range: _DateRange
    contact_info: str
    report_id: str
    policies: list[_Entry]


_DECODER = msgspec.json.Decoder(_Report)
_moment = functools.lru_cache(maxsize=4096)(read_datetime)  # reports repeat their days


def inflate_strict(data: bytes, max_size: int) -> bytes | None:
    """The body of ``data`` when it is one whole gzip member (RFC 1952) of at most ``max_size``
    bytes with nothing after it — what :func:`~mailshield.core.documents.archive.expand` gives
    for it, without a note; ``None`` for anything else (plain, zip, several members, trailing
    bytes, damage, over the cap), which ``expand`` must judge."""
    if data[:2] != GZIP_MAGIC:
        return None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper only
    try:
        body = inflater.decompress(data, max_size + 1)  # a byte past the cap proves it exceeded
    except zlib.error:
        return None
    if not inflater.eof or inflater.unused_data or len(body) > max_size:
        return None
    return body


class _Unusual(Exception):
    """The report needs the tolerant walk (raised inside the conversion only)."""


def read_strict(text: str, limits: ReportLimits, fingerprint: str) -> TlsReport | None:
    """The report in JSON ``text`` exactly as the tolerant walk reads it, when the walk would
    note nothing; ``None`` when the tolerant walk must read it instead."""
    if "\\" in text or limits.max_depth < STRICT_DEPTH:
        return None
    try:
        doc = _DECODER.decode(text)
    except msgspec.DecodeError:  # ValidationError included: a shape the walk must judge
        return None
    reader = _Strict(limits)
    try:
        report = reader.report(doc, fingerprint)
    except _Unusual:
        return None
    return report if text.count('"') == 2 * reader.tokens else None


class _Strict:
    """One conversion; ``tokens`` counts the member names and strings it decoded."""

    def __init__(self, limits: ReportLimits) -> None:
        self.limits = limits
        self.max_length = limits.max_string_length
        self.tokens = 0

    def report(self, doc: _Report, fingerprint: str) -> TlsReport:
        entries = doc.policies
        if not entries or len(entries) > self.limits.max_policies:
            raise _Unusual
        span = doc.date_range
        start, end = _instant(span.start_datetime), _instant(span.end_datetime)
        if end < start:  # noted by the walk (RFC 8460 §4.4: start before end)
            raise _Unusual
        self.tokens += 12  # five members, three strings; date-range: two members, two strings
        return TlsReport(
            organization_name=self.text(doc.organization_name),
            report_id=self.text(doc.report_id),
            start=start,
            end=end,
            contact_info=self.text(doc.contact_info),
            policies=tuple([self.policy(entry) for entry in entries]),
            fingerprint=fingerprint,
        )

    def policy(self, entry: _Entry) -> ReportPolicy:
        spec, summary = entry.policy, entry.summary
        policy_type = self.text(spec.policy_type)
        if policy_type not in KNOWN_POLICY_TYPES:
            raise _Unusual
        failed = summary.total_failure_session_count
        strings = self.strings(spec.policy_string)
        if policy_type == "tlsa" and any(line[:1] in ("{", "[") for line in strings):
            raise _Unusual  # records sent as JSON: the walk converts them, with a note
        self.tokens += 8  # entry: two members; policy: two members, two strings; summary: two
        return ReportPolicy(
            policy_type=policy_type,
            domain=_host(self.text(spec.policy_domain), wildcard=False),
            policy_strings=strings,
            mx_hosts=_patterns(self.strings(spec.mx_host)),
            successful_sessions=summary.total_successful_session_count,
            failed_sessions=failed,
            failure_details=self.details(entry.failure_details, failed),
        )

    def strings(self, value: _Strings) -> tuple[str, ...]:
        """A ``policy-string`` or ``mx-host`` array of clean strings."""
        if value is UNSET:
            return ()
        self.tokens += 1
        if value is None:
            return ()
        if len(value) > self.limits.max_list_items:
            raise _Unusual
        self.tokens += len(value)
        stripped = tuple([item.strip() for item in value])
        if "" in stripped or (stripped and max(map(len, stripped)) > self.max_length):
            raise _Unusual  # as in text(): empty or over-long strings are noted by the walk
        return stripped

    def details(self, rows: _Details, failed: int) -> tuple[FailureDetail, ...]:
        if rows is not UNSET:
            self.tokens += 1
        if rows is None or rows is UNSET:
            if failed:  # sessions failed, yet no details: noted by the walk
                raise _Unusual
            return ()
        if len(rows) > self.limits.max_failure_details:
            raise _Unusual
        return tuple([self.detail(row) for row in rows])

    def detail(self, row: _Detail) -> FailureDetail:
        sent_from, sent_to = row.sending_mta_ip, row.receiving_ip
        sending = canonical_ip(sent_from) if len(sent_from) <= 64 else None
        receiving = canonical_ip(sent_to) if len(sent_to) <= 64 else None
        if row.result_type not in KNOWN_RESULT_TYPES or sending is None or receiving is None:
            raise _Unusual  # the walk notes an unknown result type or an unreadable address
        self.tokens += 9  # five members, four of them strings
        return FailureDetail(
            row.result_type,
            row.failed_session_count,
            sending,
            _host(self.text(row.receiving_mx_hostname), wildcard=False),
            self.optional(row.receiving_mx_helo),
            receiving,
            self.optional(row.additional_information),
            self.optional(row.failure_reason_code),
        )

    def text(self, value: str) -> str:
        """A required string as the walk keeps it: stripped, not empty, within the limit."""
        stripped = value.strip()
        if not stripped or len(stripped) > self.max_length:
            raise _Unusual
        return stripped

    def optional(self, value: _Text) -> str | None:
        """An optional string member, kept as sent (the walk does not strip these)."""
        if value is UNSET:
            return None
        self.tokens += 1
        if value is None:
            return None
        if not value or len(value) > self.max_length:
            raise _Unusual
        self.tokens += 1
        return value


@functools.lru_cache(maxsize=4096)
def _patterns(names: tuple[str, ...]) -> tuple[str, ...]:
    """``mx-host`` patterns that are already lower-case A-labels (reports repeat them)."""
    return tuple([_host(name, wildcard=True) for name in names])


def _host(text: str, *, wildcard: bool) -> str:
    """A host name that is already a lower-case A-label without a trailing dot."""
    name, quirk = normalise_host(text, wildcard)
    if quirk is not Quirk.NONE:
        raise _Unusual
    return name


def _instant(value: str) -> datetime:
    moment, quirk = _moment(value)
    if quirk is not Quirk.NONE or moment is None:
        raise _Unusual
    return moment
