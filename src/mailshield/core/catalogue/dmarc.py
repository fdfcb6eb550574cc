"""DMARC finding codes (RFC 7489, RFC 9989 "DMARCbis"). Titles carry the reference IDs.

Where the two RFCs differ the message says so. A missing record is fail (anyone can use the
domain in From: without consequence); lookups that did not complete are error (could not test).
"""

from __future__ import annotations

from mailshield.core.findings import define
from mailshield.core.model import Status

_7489 = "RFC 7489 §6.3"
_BIS = "RFC 9989 §4.7"
_AUTH = "RFC 7489 §7.1"

DOMAIN_INVALID = define(
    "dmarc.domain.invalid",
    Status.ERROR,
    "Domain name cannot be checked",
    "{subject} is not a valid domain name: {problem}.",
    "RFC 7489 §6.6.3",
)
DNS_FAILED = define(
    "dmarc.dns.failed",
    Status.ERROR,
    "DMARC record lookup failed",
    "The TXT lookup of {name} did not complete ({outcome}), so the policy that applies to"
    " {subject} is unknown.",
    "RFC 9989 §4.10",
)
RECORD_MISSING = define(
    "dmarc.record.missing",
    Status.FAIL,
    "No DMARC record (DMARC-01)",
    "Neither _dmarc.{subject} nor any parent domain publishes a DMARC record: receivers apply"
    " no policy to mail that fails SPF and DKIM, and nobody receives reports.",
    "RFC 7489 §6.6.3, RFC 9989 §4.10",
    "Publish a TXT record at _dmarc.<domain>, starting with p=none and a rua address.",
)
RECORD_MULTIPLE = define(
    "dmarc.record.multiple",
    Status.FAIL,
    "More than one DMARC record (DMARC-02)",
    "{name} has {count} records beginning with v=DMARC1: receivers apply no DMARC at all.",
    "RFC 7489 §6.6.3, RFC 9989 §4.10",
    "Merge the records into one.",
)
SYNTAX = define(
    "dmarc.syntax",
    Status.FAIL,
    "DMARC record ignored: bad version tag (DMARC-03)",
    "{name}: {record!r} is ignored by receivers: {problem}.",
    "RFC 7489 §6.4, RFC 9989 §4.8",
    "Begin the record exactly with 'v=DMARC1;' (upper-case DMARC1, no leading space).",
)
TAG_MALFORMED = define(
    "dmarc.tag.malformed",
    Status.WARN,
    "Malformed part of the DMARC record",
    "{name}: {text!r} is not a tag=value pair ({problem}); receivers skip it.",
    "RFC 9989 §4.8",
    "Write every part as name=value, separated by ';'.",
)
TAG_DUPLICATE = define(
    "dmarc.tag.duplicate",
    Status.WARN,
    "Tag given twice (DMARC-19)",
    "{name}: the tag {tag!r} appears more than once; receivers may use either value or reject"
    " the record.",
    "RFC 7489 §6.4",
    "Keep one occurrence of each tag.",
)
TAG_UNKNOWN = define(
    "dmarc.tag.unknown",
    Status.INFO,
    "Unknown tag (DMARC-19)",
    "{name}: the tag {tag!r} is not defined by DMARC and is ignored.",
    "RFC 9989 §4.7",
)
TAG_INVALID = define(
    "dmarc.tag.invalid",
    Status.WARN,
    "Invalid tag value (DMARC-05)",
    "{name}: {tag}={value!r} is not valid ({expected}); receivers use the default instead.",
    "RFC 9989 §4.7",
)
TAG_ORDER = define(
    "dmarc.tag.order",
    Status.WARN,
    "p is not the second tag (DMARC-18)",
    "{name}: RFC 7489 requires p right after v=DMARC1; some older receivers reject the record.",
    "RFC 7489 §6.4",
)
TAG_OBSOLETE = define(
    "dmarc.tag.obsolete",
    Status.INFO,
    "Tag removed by RFC 9989 (DMARC-08)",
    "{name}: {tag} is no longer part of DMARC (RFC 9989) and is ignored by updated receivers.",
    "RFC 9989 Appendix C.5",
)
POLICY_MISSING = define(
    "dmarc.policy.missing",
    Status.WARN,
    "No p= tag (DMARC-04)",
    "{name} has no p= tag: RFC 7489 receivers treat the record as invalid unless it has a valid"
    " rua; RFC 9989 receivers treat it as p=none.",
    "RFC 7489 §6.6.3, RFC 9989 §4.7",
)
POLICY_INVALID = define(
    "dmarc.policy.invalid",
    Status.FAIL,
    "Invalid p= value (DMARC-05)",
    "{name}: p={value!r} is not none, quarantine or reject; receivers act as if p=none (with a"
    " valid rua) or ignore the record.",
    "RFC 7489 §6.6.3, RFC 9989 §4.10.1",
)
POLICY_CASE = define(
    "dmarc.policy.case",
    Status.WARN,
    "Policy value not in lower case",
    "{name}: {tag}={value} is accepted by most receivers, but strict parsers may ignore it.",
    "RFC 7489 §6.4",
)
POLICY_NONE = define(
    "dmarc.policy.none",
    Status.WARN,
    "Policy is none: monitoring only (DMARC-06)",
    "The DMARC policy for {subject} is none (from {policy_domain}): mail failing SPF and DKIM"
    " is delivered as usual, and brand indicators (BIMI) are not shown.",
    "RFC 7489 §6.3, RFC 9989 §4.7",
    "Once aggregate reports show your own mail passing, publish p=quarantine, then p=reject.",
)
SUBDOMAIN_POLICY_NONE = define(
    "dmarc.subdomain_policy.none",
    Status.INFO,
    "Subdomain policy is none",
    "{name}: sp=none leaves subdomains unprotected although p={p}.",
    _BIS,
)
PCT_PARTIAL = define(
    "dmarc.pct.partial",
    Status.WARN,
    "Policy applied to part of the mail only (DMARC-07)",
    "{name}: pct={pct} applies the policy to {pct}% of failing mail under RFC 7489 (RFC 9989"
    " ignores pct).",
    "RFC 7489 §6.3",
)
TESTING = define(
    "dmarc.testing",
    Status.INFO,
    "Testing mode t=y (DMARC-09)",
    "{name}: t=y asks receivers to apply one level less than p= (reject → quarantine,"
    " quarantine → none).",
    _BIS,
)
PSD_SET = define(
    "dmarc.psd.misused",
    Status.WARN,
    "psd=y on a domain that may not be a public suffix (DMARC-10)",
    "{name}: psd=y declares {policy_domain} a public suffix; unless it is one, its subdomains"
    " become separate organizations and alignment breaks.",
    _BIS,
)
SP_IGNORED = define(
    "dmarc.sp.ignored",
    Status.INFO,
    "sp= below the Organizational Domain is ignored (DMARC-16)",
    "{name}: sp= only applies in a record at the Organizational Domain ({org_domain}).",
    "RFC 7489 §6.3",
)
RUA_MISSING = define(
    "dmarc.rua.missing",
    Status.WARN,
    "No aggregate reports requested (DMARC-11)",
    "{name} has no rua= tag: nobody receives aggregate reports, so problems stay invisible.",
    "RFC 7489 §6.3, RFC 9990",
)
RUF_PRESENT = define(
    "dmarc.ruf.present",
    Status.INFO,
    "Failure reports requested (DMARC-11)",
    "{name} requests failure reports (ruf=); few receivers send them, and they can contain"
    " personal data.",
    "RFC 9991",
)
URI_INVALID = define(
    "dmarc.uri.invalid",
    Status.FAIL,
    "Malformed report URI (DMARC-12)",
    "{name}: {tag} entry {text!r}: {problem}.",
    "RFC 7489 §6.4",
    "Write each destination as mailto:address, separating several with ','.",
)
URI_SCHEME = define(
    "dmarc.uri.scheme",
    Status.WARN,
    "Report URI scheme not supported by receivers (DMARC-12)",
    "{name}: {uri!r} uses {scheme}:, but receivers are only required to send to mailto: URIs.",
    "RFC 7489 §6.2",
)
URI_SIZE = define(
    "dmarc.uri.size_limit",
    Status.INFO,
    "Obsolete size limit on a report URI (DMARC-08)",
    "{name}: the '!{size}' suffix of {uri!r} is obsolete syntax that RFC 9989 receivers ignore.",
    "RFC 9989 §4.8",
)
FO_WITHOUT_RUF = define(
    "dmarc.fo.without_ruf",
    Status.INFO,
    "fo= without ruf= (DMARC-15)",
    "{name}: fo= selects failure reports, but no ruf= destination is given.",
    _7489,
)
FO_CONFLICT = define(
    "dmarc.fo.conflict",
    Status.WARN,
    "fo= options contradict each other (DMARC-15)",
    "{name}: fo={value} combines 0 (only when all fail) and 1 (when any fails).",
    _BIS,
)
RUA_UNAUTHORIZED = define(
    "dmarc.rua.unauthorized",
    Status.FAIL,
    "External report destination not authorised (DMARC-13)",
    "{subject}: {uri} is outside the domain and {auth_name} has no v=DMARC1 record, so"
    " receivers drop these reports.",
    _AUTH,
    "Have the destination publish `<your domain>._report._dmarc.<its domain> TXT "
    '"v=DMARC1"`, or send reports to an address in your own domain.',
)
RUF_UNAUTHORIZED = define(
    "dmarc.ruf.unauthorized",
    Status.FAIL,
    "External failure-report destination not authorised (DMARC-13)",
    "{subject}: {uri} is outside the domain and {auth_name} has no v=DMARC1 record, so"
    " receivers drop these reports.",
    _AUTH,
)
AUTH_OVERRIDE_MISMATCH = define(
    "dmarc.report_auth.override_mismatch",
    Status.FAIL,
    "Authorisation record names a different host (DMARC-14)",
    "{auth_name} replaces {uri} with {override}, which is on another host: receivers send the"
    " reports nowhere.",
    _AUTH,
    "Remove the rua=/ruf= tag from the authorisation record or use the same host.",
)
AUTH_LOOKUP_FAILED = define(
    "dmarc.report_auth.lookup_failed",
    Status.ERROR,
    "Report destination authorisation could not be checked",
    "The TXT lookup of {auth_name} did not complete ({outcome}).",
    _AUTH,
)
PASS = define(
    "dmarc.pass",
    Status.PASS,
    "DMARC policy enforced",
    "{subject} is protected by p={policy} (record at {policy_domain}).",
    "RFC 9989",
)
