"""SPF finding codes (RFC 7208). Titles carry the reference check IDs (SPF-nn).

Usual statuses follow the reference's severities (ERROR → fail, WARNING → warn, INFO → info);
a lookup that could not be completed is ``error`` (could not test), never fail. A missing record
is fail: without SPF anyone may send as the domain.
"""

from __future__ import annotations

from mailshield.core.findings import define
from mailshield.core.model import Status

_LIMITS = "RFC 7208 §4.6.4"

DOMAIN_INVALID = define(
    "spf.domain.invalid",
    Status.ERROR,
    "Domain name cannot be checked",
    "{subject} is not a valid domain name: {problem}.",
    "RFC 7208 §4.3",
)
DNS_FAILED = define(
    "spf.dns.failed",
    Status.ERROR,
    "DNS lookup failed during SPF evaluation (SPF-19)",
    "The {rdtype} lookup of {name} did not complete ({outcome}): receivers would get temperror"
    " and the result below it is unknown.",
    "RFC 7208 §4.4, §2.6.6",
)
RECORD_MISSING = define(
    "spf.record.missing",
    Status.FAIL,
    "No SPF record (SPF-01)",
    "{subject} publishes no TXT record beginning with v=spf1: anyone can send mail as it.",
    "RFC 7208 §4.5",
    "Publish a TXT record at the domain listing every server that sends its mail, ending in -all.",
)
RECORD_MULTIPLE = define(
    "spf.record.multiple",
    Status.FAIL,
    "More than one SPF record (SPF-02)",
    "{subject} publishes {count} TXT records beginning with v=spf1: SPF gives permerror.",
    "RFC 7208 §4.5, §3.2",
    "Merge the records into one.",
)
VERSION_INVALID = define(
    "spf.version.invalid",
    Status.FAIL,
    "Record looks like SPF but is ignored (SPF-03)",
    "{subject}: the TXT record {record!r} does not begin exactly with 'v=spf1' followed by a"
    " space or its end, so receivers ignore it.",
    "RFC 7208 §4.5",
    "Start the record with 'v=spf1 ' (no leading space, nothing glued to the version).",
)
SYNTAX = define(
    "spf.syntax",
    Status.FAIL,
    "SPF syntax error (SPF-04)",
    "{subject}: term {term!r}: {problem}. Any syntax error makes SPF permerror.",
    "RFC 7208 §4.6, §12",
    "Correct the term as the grammar of RFC 7208 §12 requires.",
)
LOOKUPS_TOO_MANY = define(
    "spf.lookups.too_many",
    Status.FAIL,
    "Too many DNS-querying terms (SPF-05)",
    "Evaluating {subject} needs {count} DNS-querying terms (include, a, mx, ptr, exists,"
    " redirect); more than 10 makes SPF permerror.",
    _LIMITS,
    "Remove unused includes, replace a/mx terms with ip4/ip6 ranges, or split senders onto"
    " subdomains so no more than 10 lookups remain.",
)
LOOKUPS_NEAR_LIMIT = define(
    "spf.lookups.near_limit",
    Status.WARN,
    "Close to the 10-lookup limit (SPF-16)",
    "Evaluating {subject} needs {count} of the 10 allowed DNS-querying terms; a change in an"
    " included record can push it over.",
    _LIMITS,
)
VOID_TOO_MANY = define(
    "spf.void_lookups.too_many",
    Status.FAIL,
    "Too many void lookups (SPF-06)",
    "Evaluating {subject} meets {count} lookups that return no records ({names}); more than 2"
    " makes SPF permerror.",
    _LIMITS,
    "Remove the terms whose names do not exist or have no records.",
)
VOID_NEAR_LIMIT = define(
    "spf.void_lookups.near_limit",
    Status.WARN,
    "At the void-lookup limit (SPF-06)",
    "Evaluating {subject} meets {count} lookups that return no records ({names}); one more"
    " makes SPF permerror.",
    _LIMITS,
    "Remove the terms whose names do not exist or have no records.",
)
MX_TOO_MANY = define(
    "spf.mx.too_many",
    Status.FAIL,
    "mx term with more than 10 MX names (SPF-07)",
    "{subject}: {term!r} names {count} MX hosts; more than 10 makes SPF permerror.",
    _LIMITS,
    "List the sending addresses with ip4/ip6 instead of mx.",
)
INCLUDE_NO_RECORD = define(
    "spf.include.no_record",
    Status.FAIL,
    "Included domain has no SPF record (SPF-08)",
    "{subject} includes {target}, which has no SPF record ({outcome}): the include gives"
    " permerror.",
    "RFC 7208 §5.2",
    "Remove the include, or correct the included name.",
)
REDIRECT_NO_RECORD = define(
    "spf.redirect.no_record",
    Status.FAIL,
    "Redirect target has no SPF record (SPF-09)",
    "{subject} redirects to {target}, which has no SPF record ({outcome}): SPF gives permerror.",
    "RFC 7208 §6.1",
    "Point redirect= at a domain that publishes one SPF record.",
)
INCLUDE_LOOP = define(
    "spf.include.loop",
    Status.FAIL,
    "SPF include/redirect loop",
    "{subject} reaches {target} again through include/redirect ({path}): evaluation can never"
    " finish and ends in permerror.",
    "RFC 7208 §4.6.4, §5.2",
    "Remove the include or redirect that points back up the chain.",
)
MODIFIER_DUPLICATE = define(
    "spf.modifier.duplicate",
    Status.FAIL,
    "redirect or exp given twice (SPF-10)",
    "{subject}: the {modifier}= modifier appears {count} times; SPF gives permerror.",
    "RFC 7208 §6",
    "Keep a single redirect= and a single exp= modifier.",
)
ALL_PASS = define(
    "spf.all.pass",
    Status.FAIL,
    "SPF allows every sender (SPF-11)",
    "{subject} ends in {term!r}: every server on the internet passes SPF for this domain.",
    "RFC 7208 §5.1",
)
ALL_NEUTRAL = define(
    "spf.all.neutral",
    Status.WARN,
    "SPF ends in neutral (SPF-12)",
    "{subject}: {term}, so mail from unlisted servers gets neutral, which receivers treat like"
    " no SPF at all.",
    "RFC 7208 §4.7, §8.2",
)
ALL_SOFTFAIL = define(
    "spf.all.softfail",
    Status.INFO,
    "SPF ends in softfail (SPF-12)",
    "{subject} ends in ~all: mail from unlisted servers is accepted but marked suspicious."
    " Use -all once every sender is listed.",
    "RFC 7208 §8.5",
)
REDIRECT_IGNORED = define(
    "spf.redirect.ignored",
    Status.WARN,
    "redirect= together with all (SPF-13)",
    "{subject} has both an all mechanism and redirect={target}: the redirect is never used.",
    "RFC 7208 §6.1",
    "Remove either the all mechanism or the redirect modifier.",
)
TERMS_AFTER_ALL = define(
    "spf.terms_after_all",
    Status.WARN,
    "Terms after all are ignored (SPF-13)",
    "{subject}: {terms} come after the all mechanism and are never evaluated.",
    "RFC 7208 §5.1",
    "Move the all mechanism to the end of the record.",
)
PTR = define(
    "spf.ptr",
    Status.WARN,
    "ptr mechanism or %{p} macro (SPF-14)",
    "{subject}: {term!r} relies on reverse DNS, which is slow, unreliable and SHOULD NOT be used.",
    "RFC 7208 §5.5",
    "Replace ptr with ip4/ip6 ranges or an include of the provider's record.",
)
NETWORK_BROAD = define(
    "spf.network.broad",
    Status.WARN,
    "Very broad network authorised (SPF-15)",
    "{subject}: {term!r} authorises a /{prefix} network, a large part of the internet.",
    "RFC 7208 §5.6",
    "Authorise only the addresses that really send mail for the domain.",
)
RECORD_TOO_LONG = define(
    "spf.record.too_long",
    Status.WARN,
    "TXT answer larger than 450 octets (SPF-16)",
    "The TXT records at {subject} total {size} octets; answers over about 450 octets may not fit"
    " a UDP reply and can fail at some receivers.",
    "RFC 7208 §3.4",
    "Shorten the record (fewer terms) or move unrelated TXT records elsewhere.",
)
MODIFIER_UNKNOWN = define(
    "spf.modifier.unknown",
    Status.INFO,
    "Unknown modifier (SPF-18)",
    "{subject}: modifier {term!r} is not defined by RFC 7208 and is ignored by receivers.",
    "RFC 7208 §6",
)
TRAILING_DOT = define(
    "spf.trailing_dot",
    Status.INFO,
    "Domain with a trailing dot (SPF-18)",
    "{subject}: {term!r} ends in a dot; receivers accept it but it SHOULD NOT be published.",
    "RFC 7208 §7.3",
)
MACRO_CACHE_HOSTILE = define(
    "spf.macro.cache_hostile",
    Status.INFO,
    "Per-sender macro (SPF-18)",
    "{subject}: {term!r} uses a macro that changes with every sender, defeating DNS caches.",
    "RFC 7208 §7.2, §10.1",
)
MACRO_UNRESOLVED = define(
    "spf.macro.unresolved",
    Status.INFO,
    "Target depends on the message",
    "{subject}: the target of {term!r} contains a macro and depends on each message; it is"
    " counted as one lookup but not followed.",
    "RFC 7208 §7",
)
NULL_MX_NOT_REJECT_ALL = define(
    "spf.null_mx.not_reject_all",
    Status.INFO,
    "Domain without mail does not refuse all senders (SPF-20)",
    "{subject} publishes a null MX (accepts no mail) but its SPF record is {record!r}; a domain"
    " that sends no mail should publish 'v=spf1 -all'.",
    "RFC 7505 §4.2, RFC 7208 §10.1.2",
    "v=spf1 -all",
)
TREE_TRUNCATED = define(
    "spf.tree.truncated",
    Status.INFO,
    "Include tree not followed further",
    "The include/redirect tree of {subject} is deeper or larger than a receiver would ever"
    " evaluate; it was followed only {depth} levels.",
    _LIMITS,
)
PASS = define(
    "spf.pass",
    Status.PASS,
    "SPF record valid",
    "{subject} publishes a valid SPF record ending in {all} that needs {lookups} of 10 DNS"
    " lookups.",
    "RFC 7208",
)
