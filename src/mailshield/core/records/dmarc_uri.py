"""DMARC report URIs (``rua``/``ruf``), RFC 7489 §6.2–§6.4, RFC 9989 §4.7–§4.8.

```abnf
dmarc-urilist = (dmarc-uri / obs-dmarc-uri) *(*WSP "," *WSP (dmarc-uri / obs-dmarc-uri))
dmarc-uri     = URI                              ; "," and "!" within MUST be %-encoded
obs-dmarc-uri = dmarc-uri "!" 1*DIGIT [ "k" / "m" / "g" / "t" ]
```

Receivers are only required to send to ``mailto:`` URIs; the destination host of a URI (the
domain of the mail address, or the authority host of another URI) is what external-destination
verification (RFC 7489 §7.1) is about. Written without ``urllib`` (the core stays I/O-free and
only needs this much of RFC 3986).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailshield.core.names import hostname_problem

_URI = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>[^!]*)\Z")
_SIZE = re.compile(r"[0-9]+[kmgtKMGT]?\Z")
_WSP = " \t"


@dataclass(frozen=True, slots=True)
class ReportUri:
    """One well-formed report URI; ``host`` is lower-case without a trailing dot."""

    text: str
    scheme: str
    host: str
    size_limit: str | None = None  # the obsolete "!<size>" suffix, without the "!"

    @property
    def is_mailto(self) -> bool:
        return self.scheme == "mailto"


@dataclass(frozen=True, slots=True)
class UriProblem:
    """Why one element of a URI list is not usable."""

    text: str
    problem: str


def parse_uri_list(value: str) -> tuple[tuple[ReportUri, ...], tuple[UriProblem, ...]]:
    """Split a ``dmarc-urilist`` and parse each element; never raises."""
    uris: list[ReportUri] = []
    problems: list[UriProblem] = []
    for element in value.split(","):
        text = element.strip(_WSP)
        uri = parse_uri(text)
        if isinstance(uri, ReportUri):
            uris.append(uri)
        else:
            problems.append(uri)
    return tuple(uris), tuple(problems)


def parse_uri(text: str) -> ReportUri | UriProblem:
    """One ``dmarc-uri`` with its optional obsolete size suffix."""
    if not text:
        return UriProblem(text, "empty URI (a stray ',' in the list?)")
    body, bang, size = text.partition("!")
    if bang and not _SIZE.match(size):
        return UriProblem(text, "'!' inside a URI must be written %21 (RFC 7489 §6.4)")
    match = _URI.match(body)
    if match is None or any(c in body for c in ' \t<>"') or not body.isascii():
        return UriProblem(text, "not a URI (expected e.g. mailto:dmarc@example.com)")
    scheme, rest = match.group("scheme").lower(), match.group("rest")
    host = _mailto_host(rest) if scheme == "mailto" else _authority_host(rest)
    if isinstance(host, UriProblem):
        return UriProblem(text, host.problem)
    return ReportUri(text, scheme, host, size if bang else None)


def _mailto_host(rest: str) -> str | UriProblem:
    """The domain of a ``mailto:`` address (RFC 6068 §2), checked as a host name."""
    address = rest.split("?", 1)[0]
    local, at, domain = address.rpartition("@")
    if not at or not local or "@" in local:
        return UriProblem(rest, f"{address!r} is not a single mail address")
    return _checked_host(domain)


def _authority_host(rest: str) -> str | UriProblem:
    """The host of ``//[userinfo@]host[:port]/…`` (RFC 3986 §3.2)."""
    if not rest.startswith("//"):
        return UriProblem(rest, "the URI has no host")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    return _checked_host(host)


def _checked_host(host: str) -> str | UriProblem:
    bare = host[:-1] if host.endswith(".") else host
    problem = hostname_problem(bare)
    if problem:
        return UriProblem(host, f"destination host {host!r} {problem}")
    return bare.lower()
