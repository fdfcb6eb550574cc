"""From a host name to the addresses a probe may connect to: resolve once, then guard.

The name is resolved through the DNS probe (never the host resolver), every address passes the
SSRF guard, and the caller connects to these exact addresses — nothing re-resolves the name
between the check and the connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from mailshield.core.observations import ConnectOutcome, DnsAnswer
from mailshield.probes.net_policy import AddressPolicy, parse_address


class AddressLookup(Protocol):
    """The DNS probe, as far as address lookups need it (``services.ports.DnsLookup``)."""

    async def query(self, name: str, rdtype: str) -> DnsAnswer: ...


@dataclass(frozen=True, slots=True)
class Candidates:
    """Addresses to try in order, or why there are none (``failure`` with a ``detail``)."""

    addresses: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # (address, why the guard refused it)
    failure: ConnectOutcome | None = None
    detail: str = ""


async def candidates(lookup: AddressLookup, host: str, policy: AddressPolicy) -> Candidates:
    """The permitted addresses of ``host`` (IPv4 first), or NO_ADDRESS/DNS_FAILED/BLOCKED."""
    literal = _literal(host)
    if literal is not None:
        return _guard((literal,), policy)
    answers = await asyncio.gather(lookup.query(host, "A"), lookup.query(host, "AAAA"))
    found = tuple(r for answer in answers for r in answer.texts())
    if found:
        return _guard(found, policy)
    failed = [f"{a.rdtype}: {a.outcome.value} {a.detail}".strip() for a in answers if not a.ok]
    if any(answer.outcome.is_failure for answer in answers):
        return Candidates(failure=ConnectOutcome.DNS_FAILED, detail="; ".join(failed))
    return Candidates(failure=ConnectOutcome.NO_ADDRESS, detail=f"{host} has no A or AAAA record")


def _guard(addresses: tuple[str, ...], policy: AddressPolicy) -> Candidates:
    verdicts = [(address, policy.refusal(address)) for address in addresses]
    allowed = tuple(address for address, why in verdicts if why is None)
    refused = tuple((address, why) for address, why in verdicts if why is not None)
    if allowed:
        return Candidates(allowed, refused)
    detail = ", ".join(f"{address} ({why})" for address, why in refused)
    return Candidates(
        refused=refused, failure=ConnectOutcome.BLOCKED, detail=f"not a public address: {detail}"
    )


def _literal(host: str) -> str | None:
    address = parse_address(host)
    return None if address is None else str(address)
