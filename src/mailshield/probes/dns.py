"""The DNS probe: asks configured resolvers, never the host's stub, and returns :class:`DnsAnswer`.

Each query goes over UDP with EDNS(0) and the DO bit (RFC 3225), so a validating resolver's AD bit
tells a secure answer (RFC 4035 §3.2.3, RFC 6840 §5.7); a truncated reply (TC) is asked again over
TCP (RFC 7766 §5). A timeout or network error moves on to the next server, a SERVFAIL or REFUSED to
the next *other* server, within ``tries`` attempts of ``timeout`` seconds each (UDP and a TCP retry
each get the full timeout). When every server answers SERVFAIL without an extended DNS error, the
query is repeated once with CD set: an answer then means the data is there but fails validation
(BOGUS). Exceptions are translated into outcomes in :meth:`DnsClient._ask` only.

Queries are written and responses read by the sans-IO codec :mod:`mailshield.core.dns_wire`: a
query's octets are built once per question and only its ID changes per exchange; a response is
decoded once. dnspython is used only to turn a type mnemonic into its number and a non-ASCII
name into A-labels (IDNA 2008, practical variant), as the probe always has.

One client serves one check run: it remembers every answer, and concurrent identical queries share
one exchange. Its UDP queries to a server share one socket while any of them waits
(:mod:`mailshield.probes.dns_channel`).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype

from mailshield.core.dns_wire import (
    Question,
    WireError,
    WireMessage,
    encode_query,
    name_from_text,
    wire_name_text,
)
from mailshield.core.dns_wire_codes import (
    RCODE_NOERROR,
    RCODE_NXDOMAIN,
    RCODE_REFUSED,
    RCODE_SERVFAIL,
    TC,
)
from mailshield.core.observations import DnsAnswer, DnsOutcome, Dnssec
from mailshield.probes.dns_answer import DEFAULT_LIMITS, DnsLimits, Step, read_response
from mailshield.probes.dns_channel import UdpChannel
from mailshield.probes.dns_tcp import tcp_exchange
from mailshield.probes.once import OnceMemo

__all__ = ["DnsClient", "DnsLimits", "Nameserver", "system_nameservers"]


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A resolver address: an IP literal and a port."""

    address: str
    port: int = 53

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """``IP``, ``IPv4:PORT`` or ``[IPv6]:PORT``; names are refused (no host resolver)."""
        text = text.strip()
        host, port = text, 53
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = int(rest.removeprefix(":")) if rest else 53
        elif text.count(":") == 1:
            host, _, port_text = text.partition(":")
            port = int(port_text)
        address = ipaddress.ip_address(host)
        if not 0 < port < 65536:
            raise ValueError(f"port out of range: {port}")
        return cls(str(address), port)

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def system_nameservers(path: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The ``nameserver`` addresses of a resolv.conf file (the default when none is configured)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append(words[1].split("%")[0])
    return found


@dataclass(frozen=True, slots=True)
class _Failure:
    outcome: DnsOutcome
    detail: str


_NO_ATTEMPT = _Failure(DnsOutcome.ERROR, "no attempt made")


@dataclass(frozen=True, slots=True)
class _Name:
    """A name to ask about: its wire form and its text (lower case, no final dot)."""

    wire: bytes
    text: str

    @classmethod
    @functools.lru_cache(maxsize=4096)  # one check asks a name for several types
    def from_text(cls, text: str) -> _Name:
        """The name ``text`` as dnspython reads it with IDNA 2008 (practical): ASCII text as
        written (escapes allowed), other text converted to A-labels (UTS 46 mapping)."""
        wire = name_from_text(text) if text.isascii() else _idna_wire(text)
        if _PLAIN_NAME.fullmatch(text):  # nothing to escape: the text is the name's text
            return cls(wire, text.lower().removesuffix("."))
        return cls(wire, wire_name_text(wire))


_PLAIN_NAME = re.compile(r"[-0-9A-Za-z_]+(?:\.[-0-9A-Za-z_]+)*\.?")


def _idna_wire(text: str) -> bytes:
    name = dns.name.from_text(text, idna_codec=dns.name.IDNA_2008_Practical)
    return name.to_wire() or b""


@functools.lru_cache(maxsize=256)
def _rdtype(text: str) -> tuple[int, str]:
    """A type mnemonic (or ``TYPEnnn``) as its number and its canonical mnemonic."""
    rdtype = dns.rdatatype.RdataType.make(text)
    return int(rdtype), dns.rdatatype.to_text(rdtype)


class DnsClient:
    """Resolves names through explicit resolvers, implementing ``services.ports.DnsLookup``."""

    def __init__(
        self,
        nameservers: Sequence[str | Nameserver],
        *,
        timeout: float = 3.0,
        tries: int = 3,
        limits: DnsLimits = DEFAULT_LIMITS,
        validating: bool = False,
    ) -> None:
        """``validating``: the resolvers are known to validate DNSSEC, so an answer without AD is
        INSECURE rather than UNKNOWN."""
        servers = [n if isinstance(n, Nameserver) else Nameserver.parse(n) for n in nameservers]
        if not servers:
            raise ValueError("at least one nameserver is needed")
        self._servers = tuple(servers)
        self._timeout = timeout
        self._tries = max(1, tries)
        self._limits = limits
        self._validating = validating
        self._memo: OnceMemo[tuple[str, str], DnsAnswer] = OnceMemo()
        self._channels: dict[Nameserver, UdpChannel] = {}

    @property
    def nameservers(self) -> tuple[Nameserver, ...]:
        return self._servers

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        """The answer for ``name``/``rdtype``, asked at most once per client."""
        rdtype = rdtype.upper()
        try:
            qname = _Name.from_text(name.strip())
            qtype, mnemonic = _rdtype(rdtype)
        except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
            return DnsAnswer(name, rdtype, DnsOutcome.ERROR, detail=f"invalid query: {exc}")
        key = (qname.text, rdtype)
        known = self._memo.known(key)  # most questions of a check were asked before
        if known is not None:
            return known
        return await self._memo.get(key, lambda: self._lookup(qname, qtype, mnemonic))

    async def _lookup(self, qname: _Name, qtype: int, mnemonic: str) -> DnsAnswer:
        """Ask, following a CNAME chain across responses when a server does not chase it."""
        chain: tuple[str, ...] = ()
        statuses: list[Dnssec] = []
        current = qname
        while True:
            step = await self._resolve_step(current, qtype, (qname.text, *chain))
            chain += step.cnames
            statuses.append(step.dnssec)
            if step.restart is None:
                return DnsAnswer(
                    name=qname.text,
                    rdtype=mnemonic,
                    outcome=step.outcome,
                    records=step.records,
                    cname_chain=chain,
                    dnssec=_combine(statuses),
                    detail=step.detail,
                )
            current = _Name(name_from_text(step.restart), step.restart)

    async def _resolve_step(self, qname: _Name, qtype: int, visited: tuple[str, ...]) -> Step:
        question = Question(qname.text, qtype)
        query = encode_query(qname.wire, qtype, query_id=0)
        reply = await self._exchange(query, question)
        if isinstance(reply, _Failure):
            return Step(reply.outcome, detail=reply.detail)
        response, server = reply
        step = read_response(
            response,
            qname.text,
            qtype,
            visited=visited,
            limits=self._limits,
            validating=self._validating,
        )
        if step.outcome is DnsOutcome.SERVFAIL and step.dnssec is Dnssec.UNKNOWN:
            return await self._check_bogus(qname, question, server, step)
        return step

    async def _exchange(
        self, query: bytes, question: Question
    ) -> tuple[WireMessage, Nameserver] | _Failure:
        """One answer from the servers in turn, within ``tries`` attempts.

        A response (even SERVFAIL) is preferred over a failure to get one; a server that answered
        SERVFAIL or REFUSED is not asked again.
        """
        failure = _NO_ATTEMPT
        answered: dict[Nameserver, WireMessage] = {}
        for attempt in range(self._tries):
            server = self._servers[attempt % len(self._servers)]
            if server in answered:
                continue
            reply = await self._ask(server, query, question)
            if isinstance(reply, _Failure):
                failure = reply
                continue
            if reply.rcode not in (RCODE_SERVFAIL, RCODE_REFUSED):
                return reply, server
            answered[server] = reply
        if answered:
            server, response = next(reversed(answered.items()))
            return response, server
        return failure

    async def _check_bogus(
        self, qname: _Name, question: Question, server: Nameserver, step: Step
    ) -> Step:
        """RFC 4035 §3.2.2: with CD set a validating resolver returns data that fails validation;
        if the SERVFAIL turns into an answer, the SERVFAIL was a validation failure."""
        query = encode_query(qname.wire, question.rdtype, query_id=0, checking_disabled=True)
        reply = await self._ask(server, query, question)
        if isinstance(reply, WireMessage) and reply.rcode in (RCODE_NOERROR, RCODE_NXDOMAIN):
            detail = f"{step.detail} (answered with checking disabled: DNSSEC validation failed)"
            return Step(step.outcome, dnssec=Dnssec.BOGUS, detail=detail)
        return step

    def _channel(self, server: Nameserver) -> UdpChannel:
        channel = self._channels.get(server)
        if channel is None:
            channel = self._channels[server] = UdpChannel(server.address, server.port)
        return channel

    async def _ask(
        self, server: Nameserver, query: bytes, question: Question
    ) -> WireMessage | _Failure:
        """One exchange with one server: the only place exceptions become outcomes."""
        try:
            response = await self._channel(server).exchange(query, question, self._timeout)
            if response.flags & TC:  # RFC 7766 §5: ask again over TCP
                response = await tcp_exchange(
                    server.address, server.port, query, question, self._timeout
                )
        except TimeoutError:
            return _Failure(DnsOutcome.TIMEOUT, f"no answer from {server} in {self._timeout:g}s")
        except WireError as exc:
            return _Failure(DnsOutcome.ERROR, f"bad answer from {server}: {exc}")
        except (OSError, EOFError, ValueError) as exc:
            return _Failure(DnsOutcome.ERROR, f"network error with {server}: {exc!r}")
        return response


def _combine(statuses: list[Dnssec]) -> Dnssec:
    """The status of a chain: bogus if any step is, secure only if every step is."""
    if Dnssec.BOGUS in statuses:
        return Dnssec.BOGUS
    if statuses and all(status is Dnssec.SECURE for status in statuses):
        return Dnssec.SECURE
    if statuses and all(s in (Dnssec.SECURE, Dnssec.INSECURE) for s in statuses):
        return Dnssec.INSECURE
    return Dnssec.UNKNOWN
