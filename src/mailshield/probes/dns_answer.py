"""Reading one DNS response: the CNAME chain it went through, its records, its DNSSEC status.

No I/O happens here; :mod:`mailshield.probes.dns` sends the queries and hands each response,
decoded once by :mod:`mailshield.core.dns_wire`, to :func:`read_response`. Records come as the
plain values of :mod:`mailshield.core.observations`, bounded so a hostile answer cannot blow
memory. Names are lower-case text without the final dot (``""`` for the root), so they compare
case-insensitively (RFC 4343) as plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailshield.core.dns_wire import ExtendedError, WireMessage
from mailshield.core.dns_wire_codes import (
    AD,
    RCODE_NOERROR,
    RCODE_NXDOMAIN,
    RCODE_REFUSED,
    RCODE_SERVFAIL,
    TYPE_CNAME,
    TYPE_SOA,
    ede_name,
    rcode_text,
)
from mailshield.core.observations import DnsOutcome, DnsRecord, Dnssec


@dataclass(frozen=True, slots=True)
class DnsLimits:
    """Bounds on what one lookup may return."""

    max_records: int = 100  # records in the final RRset
    max_txt_bytes: int = 32 * 1024  # TXT character-string bytes, all RRs together
    max_cname_chain: int = 8  # CNAME hops (resolvers use 8-16; RFC 1034 §3.6.2 sets none)


DEFAULT_LIMITS = DnsLimits()


@dataclass(frozen=True, slots=True)
class Step:
    """What one response says about one name.

    ``restart`` is set when the response stops at a CNAME target without data or a negative
    answer for it (a server that does not chase CNAMEs): the client asks again for the target
    (RFC 1034 §5.3.3, step 3).
    """

    outcome: DnsOutcome
    records: tuple[DnsRecord, ...] = ()
    cnames: tuple[str, ...] = ()
    restart: str | None = None
    dnssec: Dnssec = Dnssec.UNKNOWN
    detail: str = ""


# RFC 8914 §4: the extended DNS errors that mean "DNSSEC validation failed" (DNSSEC Bogus,
# Signature Expired, Signature Not Yet Valid, DNSKEY Missing, RRSIGs Missing, No Zone Key Bit
# Set, NSEC Missing).
_BOGUS_EDE = frozenset({6, 7, 8, 9, 10, 11, 12})


def read_response(
    response: WireMessage,
    qname: str,
    rdtype: int,
    *,
    visited: tuple[str, ...] = (),
    limits: DnsLimits = DEFAULT_LIMITS,
    validating: bool = False,
) -> Step:
    """The step ``response`` takes from ``qname``.

    ``visited`` holds the names of the lookup so far, the original name first and ``qname`` last
    (empty on the first response, meaning just ``qname``).
    """
    rcode = response.rcode
    if rcode == RCODE_SERVFAIL:
        return _servfail(response)
    if rcode == RCODE_REFUSED:
        return Step(DnsOutcome.REFUSED, detail="the resolver refused the query")
    if rcode not in (RCODE_NOERROR, RCODE_NXDOMAIN):
        return Step(DnsOutcome.ERROR, detail=f"response code {rcode_text(rcode)}")
    dnssec = dnssec_status(response, validating=validating)
    walked = _walk(response, qname, rdtype, visited or (qname,), limits.max_cname_chain)
    if isinstance(walked, str):
        return Step(DnsOutcome.ERROR, dnssec=dnssec, detail=walked)
    cnames, rrset = walked
    if rcode == RCODE_NXDOMAIN:  # RFC 6604 §3: the rcode is about the last name of the chain
        return Step(DnsOutcome.NXDOMAIN, cnames=cnames, dnssec=dnssec)
    if rrset is None:
        restart = cnames[-1] if cnames and TYPE_SOA not in response.authority_types else None
        return Step(DnsOutcome.NODATA, cnames=cnames, restart=restart, dnssec=dnssec)
    records = check_rrset(rrset, limits)
    if isinstance(records, str):
        return Step(DnsOutcome.ERROR, cnames=cnames, dnssec=dnssec, detail=records)
    return Step(DnsOutcome.OK, records, cnames, dnssec=dnssec)


def dnssec_status(response: WireMessage, *, validating: bool) -> Dnssec:
    """SECURE when a validating resolver set AD (RFC 4035 §3.2.3); otherwise INSECURE if the
    resolver is known to validate, else UNKNOWN."""
    if response.flags & AD:
        return Dnssec.SECURE
    return Dnssec.INSECURE if validating else Dnssec.UNKNOWN


def _servfail(response: WireMessage) -> Step:
    errors = response.extended_errors
    detail = "; ".join(_ede_text(error) for error in errors) or "the resolver answered SERVFAIL"
    bogus = any(error.code in _BOGUS_EDE for error in errors)
    return Step(
        DnsOutcome.SERVFAIL, dnssec=Dnssec.BOGUS if bogus else Dnssec.UNKNOWN, detail=detail
    )


def _ede_text(error: ExtendedError) -> str:
    suffix = f": {error.text}" if error.text else ""
    return f"extended DNS error {error.code} ({ede_name(error.code)}){suffix}"


def _walk(
    response: WireMessage,
    qname: str,
    rdtype: int,
    visited: tuple[str, ...],
    max_chain: int,
) -> tuple[tuple[str, ...], tuple[DnsRecord, ...] | None] | str:
    """Follow CNAMEs in the answer section from ``qname``: (targets, final RRset) or an error.

    RFC 1034 §3.6.2: an alias has one CNAME; of several, the last one read counts.
    """
    owner, cnames = qname, list[str]()
    while True:
        rrset = response.rrset(owner, rdtype)
        if rrset is not None or rdtype == TYPE_CNAME:
            return tuple(cnames), rrset
        alias = response.rrset(owner, TYPE_CNAME)
        if not alias:
            return tuple(cnames), None
        target = alias[0]
        if not isinstance(target, str):  # a CNAME's value is its target name
            return tuple(cnames), None
        if target in visited or target in cnames:
            return f"CNAME loop: {_shown(owner)} points back to {_shown(target)}"
        cnames.append(target)
        if len(visited) - 1 + len(cnames) > max_chain:
            return f"CNAME chain longer than {max_chain} names"
        owner = target


def check_rrset(records: tuple[DnsRecord, ...], limits: DnsLimits) -> tuple[DnsRecord, ...] | str:
    """The records, or why the RRset is too large to accept."""
    if len(records) > limits.max_records:
        return f"answer has {len(records)} records, more than {limits.max_records}"
    txt_bytes = sum(len(record) for record in records if isinstance(record, bytes))
    if txt_bytes > limits.max_txt_bytes:
        return f"TXT answer has {txt_bytes} bytes, more than {limits.max_txt_bytes}"
    return records


def _shown(name: str) -> str:
    """A name in a detail: the root shows as its dot."""
    return name or "."
