"""Finding codes of the DANE and DNSSEC checks (RFC 6698, RFC 7671, RFC 7672)."""

from mailshield.core.findings import define
from mailshield.core.model import Status

MATCH = define(
    "dane.tlsa.match",
    Status.PASS,
    "TLSA record matches the certificate",
    "{subject}: a DNSSEC-signed TLSA record ({record}) matches the presented certificate",
    "RFC 7672 §3.2",
)
MISSING = define(
    "dane.tlsa.missing",
    Status.INFO,
    "No TLSA records",
    "{subject} has no TLSA record at {owner}: DANE is not deployed for it",
    "RFC 7672 §2.2",
)
INSECURE = define(
    "dane.tlsa.insecure",
    Status.WARN,
    "TLSA records without DNSSEC",
    "{subject}: TLSA records at {owner} are not DNSSEC-signed, so senders ignore them",
    "RFC 7672 §2.2",
    "Sign the zone with DNSSEC and publish the DS at the parent, or remove the TLSA records.",
)
MISMATCH = define(
    "dane.tlsa.mismatch",
    Status.FAIL,
    "No TLSA record matches the certificate",
    "{subject} ({address}): none of the usable TLSA records matches the presented chain;"
    " DANE senders will not deliver",
    "RFC 7672 §3.2",
    "Publish a TLSA record for the certificate the MX presents, e.g. `3 1 1 <SHA-256 of its "
    "public key>`, and keep the old record until the rollover is done (RFC 7671 §8).",
)
UNUSABLE = define(
    "dane.tlsa.unusable",
    Status.WARN,
    "TLSA records unusable for SMTP",
    "{subject}: TLSA record {record} is unusable for SMTP ({reason})",
    "RFC 7672 §3.1, RFC 6698 §4.1",
)
LOOKUP_FAILED = define(
    "dane.tlsa.lookup_failed",
    Status.ERROR,
    "TLSA lookup failed",
    "{subject}: the TLSA lookup at {owner} failed ({outcome}); DANE senders treat the host as"
    " unreachable",
    "RFC 7672 §2.1.2",
)
NOT_TESTED = define(
    "dane.tlsa.not_tested",
    Status.ERROR,
    "TLSA records could not be matched",
    "{subject}: TLSA records exist but no certificate could be obtained to match them",
    "RFC 7672 §3.2",
)
NO_STARTTLS = define(
    "dane.starttls_missing",
    Status.FAIL,
    "TLSA published but STARTTLS not offered",
    "{subject} ({address}) has secure TLSA records but does not offer STARTTLS",
    "RFC 7672 §2.2",
)
BOGUS = define(
    "dnssec.bogus",
    Status.FAIL,
    "DNSSEC validation fails",
    "DNSSEC validation of {subject} ({rdtype}) fails: validating resolvers answer SERVFAIL",
    "RFC 4035 §5.5, RFC 7672 §2.1.1",
    "Fix the DNSSEC chain: the DS at the parent must match a DNSKEY, signatures must be current.",
)
SECURE = define(
    "dnssec.secure",
    Status.PASS,
    "DNSSEC-signed",
    "{subject} is DNSSEC-signed and validates",
    "RFC 4035",
)
UNSIGNED = define(
    "dnssec.insecure",
    Status.INFO,
    "Not DNSSEC-signed",
    "{subject} is not DNSSEC-signed: DANE cannot be used",
    "RFC 7672 §2.2.1",
)
UNKNOWN = define(
    "dnssec.unknown",
    Status.ERROR,
    "DNSSEC status unknown",
    "The DNSSEC status of {subject} could not be determined ({detail})",
    "RFC 7672 §2.1.1",
)
