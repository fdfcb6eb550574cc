"""The interfaces services need from probes and storage; concrete ones are passed in."""

from __future__ import annotations

from typing import Protocol

from mailshield.core.observations import DnsAnswer, HttpsFetch, SmtpProbe


class DnsLookup(Protocol):
    """Resolves one name/type through the configured resolvers (never the host's stub)."""

    async def query(self, name: str, rdtype: str) -> DnsAnswer: ...


class HttpsFetcher(Protocol):
    """Fetches one URL exactly as an MTA-STS sender does (RFC 8461 §3.3)."""

    async def fetch(self, url: str) -> HttpsFetch: ...


class SmtpProber(Protocol):
    """Probes one MX address: banner, EHLO, STARTTLS, handshake."""

    async def probe(self, host: str, address: str) -> SmtpProbe: ...


class PolicySource(Protocol):
    """What the policy server serves: the policy body for ``mta-sts.<domain>`` (RFC 8461 §3.3).

    Implemented by the hosting service; ``None`` for any name that is not an active hosted domain.
    """

    async def policy_for(self, host: str) -> bytes | None: ...


class IssuanceGate(Protocol):
    """Whether a certificate may be ordered for a name (the Caddy "ask" rule).

    ``None`` means yes; otherwise the reason it may not (not onboarded, CNAME not pointing here).
    """

    async def refusal(self, name: str) -> str | None: ...


class HostedNames(Protocol):
    """Every policy host name MailShield hosts or is onboarding (``mta-sts.<domain>``).

    Implemented by the hosting service from storage (no DNS). The certificate manager walks it to
    find names to order or renew, and the ``/tls/ask`` snapshot asks the gate about each of them.
    """

    async def policy_hosts(self) -> list[str]: ...
