"""What the probes saw: plain values handed from ``probes`` to ``core`` evaluators.

Probes never judge; they record outcomes (including failures, as values) and timings.
A DNS timeout or a refused connection is an outcome here and becomes "could not test" later,
never a protocol failure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class DnsOutcome(enum.StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"  # authoritative: the name does not exist
    NODATA = "nodata"  # authoritative: the name exists, no record of this type
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    ERROR = "error"  # malformed answer, CNAME loop, oversized, anything else

    @property
    def is_negative(self) -> bool:
        """An authoritative "no such record": a finding, not a test failure."""
        return self in (DnsOutcome.NXDOMAIN, DnsOutcome.NODATA)

    @property
    def is_failure(self) -> bool:
        """The lookup could not be completed: "could not test"."""
        return self in (
            DnsOutcome.SERVFAIL,
            DnsOutcome.TIMEOUT,
            DnsOutcome.REFUSED,
            DnsOutcome.ERROR,
        )


class Dnssec(enum.StrEnum):
    SECURE = "secure"  # validated (AD bit from a validating resolver)
    INSECURE = "insecure"  # provably unsigned
    BOGUS = "bogus"  # validation failed
    UNKNOWN = "unknown"  # resolver does not validate, or lookup failed


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    exchange: str  # lower-case, no trailing dot; "" for the null MX "."


@dataclass(frozen=True, slots=True)
class TlsaRecord:
    usage: int
    selector: int
    mtype: int
    data: bytes


DnsRecord = bytes | str | MxRecord | TlsaRecord
"""TXT: one RR's strings joined with no separator (bytes); A/AAAA/CNAME/PTR/NS: text;
MX: :class:`MxRecord`; TLSA: :class:`TlsaRecord`."""


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """The outcome of one lookup of ``name``/``rdtype``, after following CNAMEs."""

    name: str
    rdtype: str
    outcome: DnsOutcome
    records: tuple[DnsRecord, ...] = ()
    cname_chain: tuple[str, ...] = ()  # names the lookup was redirected through, in order
    dnssec: Dnssec = Dnssec.UNKNOWN
    detail: str = ""  # human-readable reason for a failure (extended DNS error, exception text)

    @property
    def ok(self) -> bool:
        return self.outcome is DnsOutcome.OK

    @property
    def canonical_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else self.name

    def txt(self) -> tuple[bytes, ...]:
        return tuple(r for r in self.records if isinstance(r, bytes))

    def texts(self) -> tuple[str, ...]:
        return tuple(r for r in self.records if isinstance(r, str))

    def mx(self) -> tuple[MxRecord, ...]:
        return tuple(r for r in self.records if isinstance(r, MxRecord))

    def tlsa(self) -> tuple[TlsaRecord, ...]:
        return tuple(r for r in self.records if isinstance(r, TlsaRecord))


class ConnectOutcome(enum.StrEnum):
    """How far a TCP/TLS conversation got, shared by the HTTPS and SMTP probes."""

    OK = "ok"
    BLOCKED = "blocked"  # address refused by the SSRF guard (private, loopback, …)
    NO_ADDRESS = "no_address"  # the host name has no A/AAAA
    DNS_FAILED = "dns_failed"  # address lookup could not be completed
    REFUSED = "refused"  # TCP connection refused / unreachable
    TIMEOUT = "timeout"
    TLS_FAILED = "tls_failed"  # handshake failed (not a certificate verdict: see TlsSession)
    PROTOCOL_ERROR = "protocol_error"  # peer spoke nonsense, closed early, or exceeded a limit


@dataclass(frozen=True, slots=True)
class TlsSession:
    """A completed TLS handshake. The chain is recorded unverified; ``core.certs`` judges it."""

    version: str  # "TLSv1.3"
    cipher: str
    chain_der: tuple[bytes, ...]  # as presented, leaf first
    server_name: str  # the SNI sent


@dataclass(frozen=True, slots=True)
class HttpsFetch:
    """One HTTPS GET as an MTA-STS sender performs it (RFC 8461 §3.3): no redirects followed."""

    url: str
    host: str
    outcome: ConnectOutcome
    address: str | None = None
    tls: TlsSession | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    truncated: bool = False  # body exceeded the cap; only the first cap+1 bytes kept
    error: str = ""
    elapsed: float = 0.0

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class SmtpProbe:
    """One SMTP conversation with one MX address: banner, EHLO, STARTTLS, handshake, QUIT."""

    host: str  # the MX name (used for SNI)
    address: str
    port: int
    outcome: ConnectOutcome
    banner: str = ""
    banner_code: int | None = None
    ehlo_keywords: tuple[str, ...] = ()  # upper-case EHLO keywords, e.g. ("PIPELINING", "STARTTLS")
    starttls_offered: bool | None = None  # None: never got as far as EHLO
    starttls_reply: str = ""
    tls: TlsSession | None = None
    tls_versions: tuple[str, ...] = field(default=())  # versions seen accepted, when probed
    error: str = ""
    elapsed: float = 0.0
    # EHLO keywords after the handshake; STARTTLS must not be listed again (RFC 3207 §4.2)
    ehlo_keywords_after_tls: tuple[str, ...] = ()
