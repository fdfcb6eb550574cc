"""The TLS-RPT record at ``_smtp._tls.<domain>`` (RFC 8460 §3).

::

    tlsrpt-record  = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
    field-delim    = *WSP ";" *WSP
    tlsrpt-field   = tlsrpt-rua / tlsrpt-extension     ; tlsrpt-rua is required
    tlsrpt-version = %s"v=TLSRPTv1"
    tlsrpt-rua     = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
    tlsrpt-uri     = URI   ; RFC 3986; "," "!" ";" percent-encoded inside a URI

Selection: records not beginning with ``v=TLSRPTv1;`` are discarded; exactly one must
remain, else the domain does not do TLS-RPT. Reports go to ``mailto:`` (RFC 6068) or are
POSTed to ``https:`` URIs. Parsers here never raise: every problem becomes a finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailshield.core.catalogue import tls_rpt as codes
from mailshield.core.findings import finding
from mailshield.core.model import Finding, Status
from mailshield.core.names import hostname_problem
from mailshield.core.records import version_fields

VERSION = "v=TLSRPTv1"

# RFC 3986 §2: the characters a URI may contain (unreserved, reserved, "%" of pct-encoded).
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*\Z")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_HTTPS = re.compile(
    r"https://(?P<host>\[[0-9A-Fa-f:.]+\]|[^/:?#]+)(?::(?P<port>\d{1,5}))?(?:[/?#]|\Z)",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}\Z")


@dataclass(frozen=True, slots=True)
class Destination:
    """One ``rua`` URI and what it means."""

    uri: str
    kind: str  # "mailto" or "https"; "" when unusable
    target: str  # the mail address or the HTTPS host
    problem: str | None  # why it cannot receive reports, or None


@dataclass(frozen=True, slots=True)
class TlsRptRecord:
    text: str
    destinations: tuple[Destination, ...]
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TlsRptParse:
    """The outcome of §3 selection over every TXT record at ``_smtp._tls.<domain>``."""

    record: TlsRptRecord | None
    candidates: tuple[str, ...]
    ignored: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """A reporter would use this record: exactly one candidate and it parses."""
        return self.record is not None and not any(f.status is Status.FAIL for f in self.findings)


def parse_destination(uri: str) -> Destination:
    """Classify one ``rua`` URI; never raises."""
    if not uri or not _URI_CHARS.match(uri) or _bad_percent(uri):
        return Destination(uri, "", "", "it is not a valid URI (spaces or unencoded characters)")
    scheme, colon, rest = uri.partition(":")
    scheme = scheme.lower()
    if not colon:
        return Destination(uri, "", "", "it has no scheme (use mailto: or https:)")
    if scheme == "mailto":
        return _mailto(uri, rest)
    if scheme == "https":
        return _https(uri)
    if scheme == "http":
        return Destination(uri, "", "", "reports are only POSTed over https:, not http:")
    return Destination(uri, "", "", f"the scheme {scheme!r} is not mailto: or https:")


def _bad_percent(uri: str) -> bool:
    return "%" in _PCT.sub("", uri)


def _mailto(uri: str, rest: str) -> Destination:
    address = _unquote(rest.partition("?")[0])
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return Destination(uri, "", "", "a mailto: destination needs an address local@domain")
    problem = hostname_problem(domain)
    if problem:
        return Destination(uri, "", "", f"the mail domain {domain!r} {problem}")
    return Destination(uri, "mailto", address, None)


def _https(uri: str) -> Destination:
    match = _HTTPS.match(uri)
    if not match:
        return Destination(uri, "", "", "an https: destination needs a host (https://host/path)")
    host = match["host"]
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        return Destination(uri, "", "", f"the port {port} is out of range")
    if host.startswith("[") or _IPV4.match(host):
        return Destination(uri, "https", host, None)
    problem = hostname_problem(host)
    if problem:
        return Destination(uri, "", "", f"the host {host!r} {problem}")
    return Destination(uri, "https", host.lower(), None)


def _unquote(text: str) -> str:
    return _PCT.sub(lambda m: chr(int(m.group()[1:], 16)), text)


def parse_record(raw: bytes | str, subject: str = "") -> tuple[TlsRptRecord, tuple[Finding, ...]]:
    """Parse one candidate record, reporting every problem; never raises."""
    reading = version_fields.read_record(raw, VERSION, known=("rua",))
    text, split = reading.text, reading.fields
    found = [_invalid(subject, problem, text) for problem in reading.problems]
    if split.lenient_version:
        found.append(finding(codes.RECORD_LENIENT_VERSION, subject, record=text))
    destinations = _check_rua(split, subject, text, found)
    for name in reading.unknown:
        found.append(finding(codes.RECORD_UNKNOWN_FIELD, subject, field=name))
    found.extend(_invalid(subject, problem, text) for problem in reading.malformed)
    return TlsRptRecord(text, destinations, split.fields), tuple(found)


def _check_rua(
    split: version_fields.Fields, subject: str, text: str, found: list[Finding]
) -> tuple[Destination, ...]:
    value = split.first("rua")
    if value is None:
        found.append(_invalid(subject, "the required rua field is missing", text))
        return ()
    if split.count("rua") > 1:
        found.append(
            finding(codes.RECORD_DUPLICATE_FIELD, subject, field="rua", count=split.count("rua"))
        )
    uris = [part.strip(" \t") for part in value.split(",")]
    destinations = tuple(parse_destination(uri) for uri in uris)
    for bad in (d for d in destinations if d.problem):
        found.append(finding(codes.RUA_INVALID, bad.uri, problem=bad.problem, record=subject))
    if not any(d.problem is None for d in destinations):
        problem = "rua names no usable mailto: or https: destination"
        found.append(_invalid(subject, problem, text))
    return destinations


def _invalid(subject: str, problem: str, text: str) -> Finding:
    return finding(codes.RECORD_INVALID, subject, problem=problem, record=text)


def select_record(txts: Iterable[bytes | str], subject: str = "") -> TlsRptParse:
    """Apply the §3 selection to every TXT record at the name, then parse the survivor.

    Near misses (``v=tlsrptv1``, leading spaces) are reported as invalid when no real
    candidate exists, because reporters silently discard them.
    """
    return _select_record(tuple(txts), subject)


@functools.lru_cache(maxsize=1024)  # planners ask again at every DNS level of one check
def _select_record(txts: tuple[bytes | str, ...], subject: str) -> TlsRptParse:
    chosen = version_fields.select(txts, VERSION)
    if len(chosen.candidates) > 1:
        multiple = finding(codes.RECORD_MULTIPLE, subject, count=len(chosen.candidates))
        return TlsRptParse(None, chosen.candidates, chosen.ignored, (multiple,))
    if chosen.chosen is None:
        near = tuple(
            _invalid(subject, f"{t!r} does not begin exactly with '{VERSION};'", t)
            for t in chosen.near_misses
        )
        return TlsRptParse(None, (), chosen.ignored, near)
    record, found = parse_record(chosen.chosen, subject)
    return TlsRptParse(record, chosen.candidates, chosen.ignored, found)
