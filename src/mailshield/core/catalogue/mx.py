"""Finding codes of the MX check (RFC 5321 §5.1, RFC 7505)."""

from mailshield.core.findings import define
from mailshield.core.model import Status

OK = define("mx.ok", Status.PASS, "MX hosts found", "{count} MX host(s): {hosts}", "RFC 5321 §5.1")
NULL = define(
    "mx.null",
    Status.INFO,
    "Null MX: the domain accepts no mail",
    "{subject} publishes a null MX (MX 0 .): it accepts no email, so inbound transport checks"
    " do not apply",
    "RFC 7505 §3",
)
NULL_MIXED = define(
    "mx.null_mixed",
    Status.FAIL,
    "Null MX mixed with other MX records",
    "{subject} publishes the null MX together with other MX records",
    "RFC 7505 §3",
    "Publish either only `MX 0 .` (no mail) or only real MX hosts.",
)
IMPLICIT = define(
    "mx.implicit",
    Status.WARN,
    "No MX record: mail goes to the domain's address",
    "{subject} has no MX record; senders fall back to its A/AAAA address (implicit MX)",
    "RFC 5321 §5.1",
    "Publish an MX record naming your mail server (`@ MX 10 mail.<domain>.`), or `MX 0 .` if "
    "the domain receives no mail.",
)
NONE = define(
    "mx.none",
    Status.FAIL,
    "No MX and no address: the domain cannot receive mail",
    "{subject} has neither MX nor A/AAAA records",
    "RFC 5321 §5.1",
    "Publish MX records for your mail servers, or `MX 0 .` if the domain sends no mail.",
)
DOMAIN_MISSING = define(
    "mx.domain_missing",
    Status.FAIL,
    "The domain does not exist",
    "{subject} does not exist in DNS (NXDOMAIN)",
    "RFC 1035",
)
CNAME = define(
    "mx.cname",
    Status.WARN,
    "MX host is an alias (CNAME)",
    "MX host {subject} is a CNAME to {target}; MX targets must be host names with addresses",
    "RFC 2181 §10.3, RFC 5321 §5.1",
    "Point the MX record at the host name the alias leads to (the name that has the A/AAAA "
    "records).",
)
NO_ADDRESS = define(
    "mx.no_address",
    Status.FAIL,
    "MX host without an address",
    "MX host {subject} has no A or AAAA record: senders cannot reach it",
    "RFC 5321 §5.1",
    "Give the MX host an A and/or AAAA record, or point the MX record at a host that has one.",
)
IP_LITERAL = define(
    "mx.ip_literal",
    Status.FAIL,
    "MX points at an IP address",
    "MX target {subject} is an IP address, not a host name",
    "RFC 5321 §5.1, RFC 7505 §3",
)
PRIVATE_ADDRESS = define(
    "mx.private_address",
    Status.WARN,
    "MX host has a non-public address",
    "MX host {subject} resolves to {address}, which is not reachable from the internet",
    "RFC 6890",
)
LOOKUP_FAILED = define(
    "mx.lookup_failed",
    Status.ERROR,
    "Could not look up the MX records",
    "The {rdtype} lookup for {subject} failed ({outcome}): MX hosts could not be tested",
    "RFC 5321 §5.1",
)
