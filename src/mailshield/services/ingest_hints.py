"""Which domains a report that could not be parsed was sent for, as far as the channel tells.

A quarantined report has no parsed ``policy-domain``, so nothing ties it to a customer. The
channel still says something, without trusting the broken document as a whole:

- the ``TLS-Report-Domain`` header field of the report e-mail (RFC 8460 §5.3);
- the attachment's (or imported file's) name, RFC 8460 §5.1::

      filename = sender "!" policy-domain "!" begin-timestamp "!" end-timestamp
                 [ "!" unique-id ] "." extension          ; extension = "json" / "json.gz"

- a ``"policy-domain": "…"`` member found in the document's text, even when the document as a
  whole is not a report (inflated with the parser's output cap, a damaged gzip stream read as
  far as it goes);
- a domain name among the segments of the HTTPS URL path (``/tlsrpt/example.com``).

They are hints only (RFC 8460 §5.6: the JSON is authoritative): each is normalised to A-labels
(RFC 8460 §4.4, §5.1) and only names MailShield serves (or names below one, as the intake's
domain gate has it) are kept, so a stranger cannot attach a report to a domain by naming it
unless that domain's owner could have received it anyway.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections.abc import Iterator, Mapping

from mailshield.core.documents.archive import ArchiveKind, Expanded, detect_kind, expand
from mailshield.core.documents.tls_report import ReportLimits
from mailshield.core.model import JSONValue
from mailshield.core.names import InvalidName, hostname_problem, to_alabel
from mailshield.services.ingest_model import KnownDomains
from mailshield.storage.reports import RawArrival

__all__ = [
    "file_name_domain",
    "header_domain",
    "hint_names",
    "path_domains",
    "policy_domains_in",
    "served_hints",
]

log = logging.getLogger(__name__)

MAX_HINTS = 16  # distinct candidate names looked up per arrival
HEADER_SCAN_BYTES = 64 * 1024  # how much of a message is searched for its header block
THREAD_THRESHOLD = 64 * 1024  # bytes: larger inputs are searched off the event loop
_INFLATE_CHUNK = 16 * 1024

# RFC 8460 §5.1; the timestamps and unique-id are checked for shape, the names by to_alabel.
_FILE_NAME = re.compile(
    r"(?P<sender>[^!/\\]+)!(?P<domain>[^!/\\]+)![0-9]+![0-9]+(?:![A-Za-z0-9]+)?\.json(?:\.gz)?\Z",
    re.IGNORECASE,
)
_POLICY_DOMAIN = re.compile(rb'"policy-domain"\s*:\s*"([^"\\]{1,253})"')
_REPORT_DOMAIN_FIELD = re.compile(rb"^TLS-Report-Domain:[ \t]*([^\r\n]{1,253})", re.I | re.M)


def _domain(text: str) -> str | None:
    """``text`` as an A-label host name, or ``None`` when it is not one."""
    try:
        name = to_alabel(text.strip())
    except InvalidName:
        return None
    return None if "." not in name or hostname_problem(name) else name


def file_name_domain(name: str) -> str | None:
    """The policy domain an RFC 8460 §5.1 file name carries (any folder part ignored)."""
    base = re.split(r"[/\\]", name)[-1]
    found = _FILE_NAME.match(base.strip())
    return None if found is None else _domain(found.group("domain"))


def path_domains(path: str) -> list[str]:
    """The segments of a URL path that are domain names (``/tlsrpt/example.com``)."""
    segments = [s for s in path.split("/") if s and s.lower() != "tlsrpt"]
    return [name for s in segments if (name := _domain(s)) is not None]


def header_domain(message: bytes) -> str | None:
    """The ``TLS-Report-Domain`` field of a message's header block (RFC 8460 §5.3), read
    without a MIME parser, for messages the parser could not take apart."""
    head = message[:HEADER_SCAN_BYTES]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=-1)
    found = _REPORT_DOMAIN_FIELD.search(head if end < 0 else head[:end])
    return None if found is None else _domain(found.group(1).decode("ascii", "replace"))


def policy_domains_in(data: bytes, limits: ReportLimits) -> list[str]:
    """``policy-domain`` values found in the text of ``data`` (gzip, zip or plain), at most
    :data:`MAX_HINTS`, whether or not the whole is a valid report."""
    text = _text(data, limits.max_decompressed_bytes)
    names: list[str] = []
    for match in _POLICY_DOMAIN.finditer(text):
        name = _domain(match.group(1).decode("utf-8", "replace"))
        if name is not None and name not in names:
            names.append(name)
            if len(names) == MAX_HINTS:
                break
    return names


def _text(data: bytes, cap: int) -> bytes:
    """As much of the content of ``data`` as can be read: plain bytes as they are (already
    held, within the intake's size cap), compressed ones inflated to at most ``cap`` bytes."""
    kind = detect_kind(data)
    if kind is ArchiveKind.PLAIN:
        return data
    expanded = expand(data, cap)
    if isinstance(expanded, Expanded):
        return expanded.data
    return _gzip_prefix(data, cap) if kind is ArchiveKind.GZIP else b""


def _gzip_prefix(data: bytes, cap: int) -> bytes:
    """What a damaged or truncated gzip stream inflates to before it breaks (bounded)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    for start in range(0, len(data), _INFLATE_CHUNK):
        try:
            out += inflater.decompress(data[start : start + _INFLATE_CHUNK], cap - len(out))
        except zlib.error:
            break
        if len(out) >= cap or inflater.unconsumed_tail or inflater.eof:
            break
    return bytes(out)


def hint_names(
    raw: RawArrival, limits: ReportLimits, report_domain: str | None = None
) -> list[str]:
    """Every candidate domain of a quarantined arrival, normalised, first seen first."""
    meta: Mapping[str, JSONValue] = raw.meta or {}
    names: list[str] = []
    for name in _candidates(raw, meta, limits, report_domain):
        if name not in names:
            names.append(name)
    return names[:MAX_HINTS]


def _candidates(
    raw: RawArrival, meta: Mapping[str, JSONValue], limits: ReportLimits, report_domain: str | None
) -> Iterator[str]:
    headers = [report_domain, meta.get("tls-report-domain")]
    for value in headers:
        if isinstance(value, str) and (name := _domain(value)) is not None:
            yield name
    if raw.kind == "message":
        if (name := header_domain(raw.data)) is not None:
            yield name
        return
    file_names = [meta.get("filename"), raw.source if raw.channel == "file" else None]
    for value in file_names:
        if isinstance(value, str) and (name := file_name_domain(value)) is not None:
            yield name
    path = meta.get("path")
    if isinstance(path, str):
        yield from path_domains(path)
    yield from policy_domains_in(raw.data, limits)


async def served_hints(
    raw: RawArrival, known: KnownDomains, limits: ReportLimits, report_domain: str | None = None
) -> tuple[str, ...]:
    """The candidate domains of ``raw`` that MailShield serves, sorted; ``()`` when the lookup
    fails (the arrival is still quarantined, only without its domains)."""
    if len(raw.data) <= THREAD_THRESHOLD:
        names = hint_names(raw, limits, report_domain)
    else:
        names = await asyncio.to_thread(hint_names, raw, limits, report_domain)
    if not names:
        return ()
    try:
        served = await known.served(names)
    except Exception:  # the quarantine must not fail on its hints; the commit tells of storage
        log.warning("served-domain lookup for quarantine hints failed", exc_info=True)
        return ()
    return tuple(sorted(served))
