"""The numbers of the DNS wire format the checker reads and writes, and their mnemonics.

Header flags are RFC 1035 §4.1.1 (QR, AA, TC, RD, RA), RFC 4035 §3.2 and RFC 6840 §5.7 (AD, CD);
RR types and classes are RFC 1035 §3.2.2-§3.2.4 plus the later ones named below; response
codes are RFC 1035 §4.1.1 and RFC 6891 §6.1.3 (extended, 12 bits); extended DNS error codes
are RFC 8914 §4 and its IANA registry. Mnemonics are spelled as dnspython spells them, so
details built from them read as they always have.
"""

from __future__ import annotations


class WireError(ValueError):
    """A DNS message or name that is malformed or over a limit; the only error the codec raises."""


# RFC 1035 §4.1.1 header flags (the 16-bit word after the ID), RFC 4035 §3.2 for AD and CD.
QR = 0x8000
AA = 0x0400
TC = 0x0200
RD = 0x0100
RA = 0x0080
AD = 0x0020
CD = 0x0010
DO = 0x8000  # RFC 3225 §3: the DNSSEC OK bit, in the EDNS flags (the OPT RR's TTL)

CLASS_IN = 1

TYPE_A = 1
TYPE_NS = 2
TYPE_CNAME = 5
TYPE_SOA = 6
TYPE_PTR = 12
TYPE_MX = 15
TYPE_TXT = 16
TYPE_SIG = 24
TYPE_AAAA = 28  # RFC 3596 §2.1
TYPE_NXT = 30
TYPE_DNAME = 39  # RFC 6672
TYPE_OPT = 41  # RFC 6891 §6.1.1
TYPE_RRSIG = 46  # RFC 4034 §3
TYPE_NSEC = 47  # RFC 4034 §4
TYPE_TLSA = 52  # RFC 6698 §2
TYPE_TSIG = 250  # RFC 8945 §4.2

# Types of which an RRset holds one record: a later one replaces an earlier one (dnspython's
# rule, kept so answers with two CNAMEs for one owner read as they did).
SINGLETON_TYPES = frozenset({TYPE_SOA, TYPE_NXT, TYPE_DNAME, TYPE_NSEC, TYPE_CNAME})

RCODE_NOERROR = 0
RCODE_FORMERR = 1
RCODE_SERVFAIL = 2
RCODE_NXDOMAIN = 3
RCODE_NOTIMP = 4
RCODE_REFUSED = 5

EDE_OPTION = 15  # RFC 8914 §2: the EDNS option code of an extended DNS error

_RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
    11: "DSOTYPENI",
    16: "BADVERS",
    17: "BADKEY",
    18: "BADTIME",
    19: "BADMODE",
    20: "BADNAME",
    21: "BADALG",
    22: "BADTRUNC",
    23: "BADCOOKIE",
}

_EDE_NAMES = (
    "OTHER",
    "UNSUPPORTED_DNSKEY_ALGORITHM",
    "UNSUPPORTED_DS_DIGEST_TYPE",
    "STALE_ANSWER",
    "FORGED_ANSWER",
    "DNSSEC_INDETERMINATE",
    "DNSSEC_BOGUS",
    "SIGNATURE_EXPIRED",
    "SIGNATURE_NOT_YET_VALID",
    "DNSKEY_MISSING",
    "RRSIGS_MISSING",
    "NO_ZONE_KEY_BIT_SET",
    "NSEC_MISSING",
    "CACHED_ERROR",
    "NOT_READY",
    "BLOCKED",
    "CENSORED",
    "FILTERED",
    "PROHIBITED",
    "STALE_NXDOMAIN_ANSWER",
    "NOT_AUTHORITATIVE",
    "NOT_SUPPORTED",
    "NO_REACHABLE_AUTHORITY",
    "NETWORK_ERROR",
    "INVALID_DATA",
    "SIGNATURE_EXPIRED_BEFORE_VALID",
    "TOO_EARLY",
    "UNSUPPORTED_NSEC3_ITERATIONS_VALUE",
    "UNABLE_TO_CONFORM_TO_POLICY",
    "SYNTHESIZED",
    "INVALID_QUERY_TYPE",
    "RATE_LIMITED",
    "OVER_QUOTA",
)


def rcode_text(rcode: int) -> str:
    """The mnemonic of a response code (``"SERVFAIL"``), or its number for an unnamed one."""
    return _RCODE_NAMES.get(rcode, str(rcode))


def ede_name(code: int) -> str:
    """The mnemonic of an extended DNS error code (``"DNSSEC_BOGUS"``), or its number."""
    return _EDE_NAMES[code] if 0 <= code < len(_EDE_NAMES) else str(code)
