"""Reading one DNS response: the CNAME chain it went through, its records, its DNSSEC status.

No I/O happens here; :mod:`mailshield.probes.dns` sends the queries and hands each response to
:func:`read_response`. Records are converted to the plain values of
:mod:`mailshield.core.observations`, and bounded so a hostile answer cannot blow memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.NS import NS
from dns.rdtypes.ANY.PTR import PTR
from dns.rdtypes.ANY.TLSA import TLSA
from dns.rdtypes.ANY.TXT import TXT
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA

from mailshield.core.observations import (
    DnsOutcome,
    DnsRecord,
    Dnssec,
    MxRecord,
    TlsaRecord,
)


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
    cnames: tuple[dns.name.Name, ...] = ()
    restart: dns.name.Name | None = None
    dnssec: Dnssec = Dnssec.UNKNOWN
    detail: str = ""


# RFC 8914 §4: the extended DNS errors that mean "DNSSEC validation failed".
_BOGUS_EDE = frozenset(
    {
        dns.edns.EDECode.DNSSEC_BOGUS,
        dns.edns.EDECode.SIGNATURE_EXPIRED,
        dns.edns.EDECode.SIGNATURE_NOT_YET_VALID,
        dns.edns.EDECode.DNSKEY_MISSING,
        dns.edns.EDECode.RRSIGS_MISSING,
        dns.edns.EDECode.NO_ZONE_KEY_BIT_SET,
        dns.edns.EDECode.NSEC_MISSING,
    }
)


def read_response(
    response: dns.message.Message,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    *,
    visited: tuple[dns.name.Name, ...] = (),
    limits: DnsLimits = DEFAULT_LIMITS,
    validating: bool = False,
) -> Step:
    """The step ``response`` takes from ``qname``.

    ``visited`` holds the names of the lookup so far, the original name first and ``qname`` last
    (empty on the first response, meaning just ``qname``).
    """
    rcode = response.rcode()
    if rcode == dns.rcode.SERVFAIL:
        return _servfail(response)
    if rcode == dns.rcode.REFUSED:
        return Step(DnsOutcome.REFUSED, detail="the resolver refused the query")
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Step(DnsOutcome.ERROR, detail=f"response code {dns.rcode.to_text(rcode)}")
    dnssec = dnssec_status(response, validating=validating)
    walked = _walk(response, qname, rdtype, visited or (qname,), limits.max_cname_chain)
    if isinstance(walked, str):
        return Step(DnsOutcome.ERROR, dnssec=dnssec, detail=walked)
    cnames, rrset = walked
    if rcode == dns.rcode.NXDOMAIN:  # RFC 6604 §3: the rcode is about the last name of the chain
        return Step(DnsOutcome.NXDOMAIN, cnames=cnames, dnssec=dnssec)
    if rrset is None:
        restart = cnames[-1] if cnames and not _has_negative_proof(response) else None
        return Step(DnsOutcome.NODATA, cnames=cnames, restart=restart, dnssec=dnssec)
    records = convert_rrset(rrset, limits)
    if isinstance(records, str):
        return Step(DnsOutcome.ERROR, cnames=cnames, dnssec=dnssec, detail=records)
    return Step(DnsOutcome.OK, records, cnames, dnssec=dnssec)


def dnssec_status(response: dns.message.Message, *, validating: bool) -> Dnssec:
    """SECURE when a validating resolver set AD (RFC 4035 §3.2.3); otherwise INSECURE if the
    resolver is known to validate, else UNKNOWN."""
    if response.flags & dns.flags.AD:
        return Dnssec.SECURE
    return Dnssec.INSECURE if validating else Dnssec.UNKNOWN


def _servfail(response: dns.message.Message) -> Step:
    errors = response.extended_errors()
    detail = "; ".join(_ede_text(error) for error in errors) or "the resolver answered SERVFAIL"
    bogus = any(error.code in _BOGUS_EDE for error in errors)
    return Step(
        DnsOutcome.SERVFAIL, dnssec=Dnssec.BOGUS if bogus else Dnssec.UNKNOWN, detail=detail
    )


def _ede_text(error: dns.edns.EDEOption) -> str:
    name = dns.edns.EDECode.to_text(error.code)
    suffix = f": {error.text}" if error.text else ""
    return f"extended DNS error {int(error.code)} ({name}){suffix}"


def _walk(
    response: dns.message.Message,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    visited: tuple[dns.name.Name, ...],
    max_chain: int,
) -> tuple[tuple[dns.name.Name, ...], dns.rrset.RRset | None] | str:
    """Follow CNAMEs in the answer section from ``qname``: (targets, final RRset) or an error."""
    owner, cnames = qname, list[dns.name.Name]()
    while True:
        rrset = _find(response, owner, rdtype)
        if rrset is not None or rdtype == dns.rdatatype.CNAME:
            return tuple(cnames), rrset
        alias = _find(response, owner, dns.rdatatype.CNAME)
        if alias is None or len(alias) == 0:
            return tuple(cnames), None
        target = alias[0].target
        if target in visited or target in cnames:
            return f"CNAME loop: {_text(owner)} points back to {_text(target)}"
        cnames.append(target)
        if len(visited) - 1 + len(cnames) > max_chain:
            return f"CNAME chain longer than {max_chain} names"
        owner = target


def _find(
    response: dns.message.Message, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> dns.rrset.RRset | None:
    return response.get_rrset(response.answer, owner, dns.rdataclass.IN, rdtype)


def _has_negative_proof(response: dns.message.Message) -> bool:
    """RFC 2308 §2.2: a NODATA answer carries the SOA of the zone in the authority section."""
    return any(rrset.rdtype == dns.rdatatype.SOA for rrset in response.authority)


def convert_rrset(rrset: dns.rrset.RRset, limits: DnsLimits) -> tuple[DnsRecord, ...] | str:
    """The records as plain values, or why the RRset is too large to accept."""
    if len(rrset) > limits.max_records:
        return f"answer has {len(rrset)} records, more than {limits.max_records}"
    records = tuple(convert_rdata(rdata) for rdata in rrset)
    txt_bytes = sum(len(record) for record in records if isinstance(record, bytes))
    if txt_bytes > limits.max_txt_bytes:
        return f"TXT answer has {txt_bytes} bytes, more than {limits.max_txt_bytes}"
    return records


def convert_rdata(rdata: dns.rdata.Rdata) -> DnsRecord:
    """One record as a plain value: TXT as one ``bytes`` per RR with its strings joined with no
    separator (RFC 7208 §3.3, RFC 8461 §3.1), MX and TLSA as records, the rest as text."""
    if isinstance(rdata, TXT):
        return b"".join(rdata.strings)
    if isinstance(rdata, MX):
        return MxRecord(rdata.preference, host_text(rdata.exchange))
    if isinstance(rdata, TLSA):
        return TlsaRecord(rdata.usage, rdata.selector, rdata.mtype, rdata.cert)
    if isinstance(rdata, A | AAAA):
        return str(rdata.address)
    if isinstance(rdata, CNAME | NS | PTR):
        return host_text(rdata.target)
    return rdata.to_text()


def host_text(name: dns.name.Name) -> str:
    """A host name in protocol form: lower-case, no trailing dot, ``""`` for the root (null MX,
    RFC 7505 §3)."""
    if name == dns.name.root:
        return ""
    return _text(name)


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()
