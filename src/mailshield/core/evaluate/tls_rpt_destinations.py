"""Can the ``rua`` destinations of a TLS-RPT record receive reports? (reference RPT-06, RPT-07)

A ``mailto:`` destination needs a mail domain that accepts mail: MX records that are not a
null MX (RFC 7505 §3), or, without MX, an address record (implicit MX, RFC 5321 §5.1). An
``https:`` destination needs a host name with an address. Only authoritative answers count:
a lookup that did not complete leaves the destination unjudged (could not test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.observations import DnsAnswer, DnsOutcome
from mailshield.core.records.tls_rpt import Destination

_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}\Z")


def destination_domain(destination: Destination) -> str | None:
    """The name whose DNS decides reachability: the mail domain or the HTTPS host name."""
    if destination.problem is not None:
        return None
    if destination.kind == "mailto":
        return destination.target.rpartition("@")[2].lower()
    if _is_address_literal(destination.target):
        return None
    return destination.target.lower()


def destination_queries(destinations: Iterable[Destination]) -> list[Query]:
    """The lookups needed to judge every usable destination."""
    needed: list[Query] = []
    for destination in destinations:
        name = destination_domain(destination)
        if name is None:
            continue
        types = ("MX", "A", "AAAA") if destination.kind == "mailto" else ("A", "AAAA")
        needed.extend(query(name, rdtype) for rdtype in types)
    return list(dict.fromkeys(needed))


def unreachable_reason(destination: Destination, answers: AnswerMap) -> str | None:
    """Why reports to ``destination`` cannot be delivered, or ``None`` (fine or unknown)."""
    name = destination_domain(destination)
    if name is None:
        return None
    a, aaaa = answers.get(query(name, "A")), answers.get(query(name, "AAAA"))
    if destination.kind == "https":
        return f"{name} has no address record (A/AAAA)" if _no_address(a, aaaa) else None
    mx = answers.get(query(name, "MX"))
    if mx is None or mx.outcome.is_failure:
        return None
    if mx.ok and mx.mx() and all(r.exchange == "" for r in mx.mx()):
        return f"{name} publishes a null MX (RFC 7505): it accepts no mail"
    if mx.ok and mx.mx():
        return None
    if mx.outcome is DnsOutcome.NXDOMAIN:
        return f"the mail domain {name} does not exist"
    return f"{name} has neither MX nor address records" if _no_address(a, aaaa) else None


def _is_address_literal(host: str) -> bool:
    """An IPv6 literal in brackets or a dotted IPv4 address: nothing to look up."""
    return host.startswith("[") or bool(_IPV4.match(host))


def _no_address(a: DnsAnswer | None, aaaa: DnsAnswer | None) -> bool:
    """Both address lookups answered authoritatively with nothing."""
    return all(
        x is not None and (x.outcome.is_negative or (x.ok and not x.texts())) for x in (a, aaaa)
    )
