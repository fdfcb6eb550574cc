"""MTA-STS finding codes (RFC 8461). Reference check IDs (STS-nn) are given in the titles' RFC.

Statuses are the usual ones; the evaluator picks another where the rule depends on context
(``mta_sts.mx.not_covered`` is fail in enforce, warn in testing, info in none; lookups and
fetches that could not be completed are ``error`` = could not test). A missing record is
``fail``: the check scores authenticated transport, and without MTA-STS (or DANE, scored
apart) there is none.
"""

from __future__ import annotations

from mailshield.core.findings import define
from mailshield.core.model import Status

_31 = "RFC 8461 §3.1"
_32 = "RFC 8461 §3.2"
_33 = "RFC 8461 §3.3"

# --- the TXT record at _mta-sts.<domain>, RFC 8461 §3.1 ------------------------------------
RECORD_MISSING = define(
    "mta_sts.record.missing",
    Status.FAIL,  # no authenticated transport: scored like any other missing protection
    "No MTA-STS record (STS-01)",
    "No TXT record beginning with v=STSv1 at {subject}: senders do not use MTA-STS, so an "
    "attacker on the path can strip STARTTLS or present any certificate.",
    _31,
    'Publish a policy file and a TXT record _mta-sts.<domain> "v=STSv1; id=…".',
)
RECORD_LOOKUP_FAILED = define(
    "mta_sts.record.lookup_failed",
    Status.ERROR,
    "MTA-STS record lookup failed (STS-02)",
    "The TXT lookup of {subject} did not complete ({outcome}{detail}).",
    _31,
)
RECORD_DANGLING_CNAME = define(
    "mta_sts.record.dangling_cname",
    Status.FAIL,
    "MTA-STS CNAME points nowhere (STS-03)",
    "{subject} is an alias of {target}, which has no TXT record: the delegation is broken.",
    "RFC 8461 §3.1, §8.2",
    "Point the CNAME at a name that holds the v=STSv1 TXT record, or publish the record.",
)
RECORD_MULTIPLE = define(
    "mta_sts.record.multiple",
    Status.FAIL,
    "Several MTA-STS records (STS-05)",
    "{count} TXT records at {subject} begin with v=STSv1: senders then ignore MTA-STS.",
    _31,
    "Keep exactly one v=STSv1 TXT record.",
)
RECORD_INVALID = define(
    "mta_sts.record.invalid",
    Status.FAIL,
    "MTA-STS record invalid (STS-04, STS-07, STS-08)",
    "The MTA-STS record at {subject} is invalid: {problem}. Senders ignore it.",
    _31,
    "Publish exactly: v=STSv1; id=<1-32 letters and digits>",
)
RECORD_LENIENT_VERSION = define(
    "mta_sts.record.lenient_version",
    Status.WARN,
    "Space before ';' after v=STSv1 (STS-09)",
    "The record at {subject} has whitespace before the first ';'. The grammar allows it, "
    'but senders that select records by the prefix "v=STSv1;" discard it (erratum 6285).',
    _31,
)
RECORD_DUPLICATE_FIELD = define(
    "mta_sts.record.duplicate_field",
    Status.WARN,
    "Field repeated in the MTA-STS record (STS-09)",
    "The field {field} appears {count} times in the record at {subject}; the first is used.",
    _31,
)
RECORD_UNKNOWN_FIELD = define(
    "mta_sts.record.unknown_field",
    Status.INFO,
    "Unknown field in the MTA-STS record (STS-09)",
    "The field {field} in the record at {subject} is not defined and is ignored.",
    _31,
)

# --- fetching https://mta-sts.<domain>/.well-known/mta-sts.txt, RFC 8461 §3.3 ----------------
POLICY_FETCH_FAILED = define(
    "mta_sts.policy.fetch_failed",
    Status.FAIL,
    "Policy could not be fetched (STS-10, STS-11)",
    "Fetching {subject} failed: {reason}.",
    _33,
)
POLICY_TLS_INVALID = define(
    "mta_sts.policy.tls_invalid",
    Status.FAIL,
    "Policy host certificate invalid (STS-12)",
    "The TLS certificate of {host} is not valid for it ({problems}): senders refuse the policy.",
    "RFC 8461 §3.3, §7.1",
    "Install a publicly trusted, unexpired certificate whose subjectAltName covers the host.",
)
POLICY_CERT_EXPIRING = define(
    "mta_sts.policy.cert_expiring",
    Status.WARN,
    "Policy host certificate expires soon (STS-13)",
    "The certificate of {subject} expires in {days_left} days; when it does, senders can no "
    "longer fetch or refresh the policy.",
    "RFC 8461 §3.3",
    "Renew the certificate (automate renewal, e.g. with ACME).",
)
POLICY_REDIRECT = define(
    "mta_sts.policy.redirect",
    Status.FAIL,
    "Policy URL redirects (STS-14)",
    "{subject} answered {http_status} with a redirect to {location}: senders never follow "
    "redirects, so they get no policy.",
    _33,
    "Serve the policy directly at /.well-known/mta-sts.txt with status 200 (no redirect).",
)
POLICY_HTTP_STATUS = define(
    "mta_sts.policy.http_status",
    Status.FAIL,
    "Policy URL does not answer 200 (STS-14)",
    "{subject} answered HTTP {http_status}; a policy is valid only with status 200.",
    _33,
    "Serve the policy at /.well-known/mta-sts.txt with status 200.",
)
POLICY_CONTENT_TYPE = define(
    "mta_sts.policy.content_type",
    Status.FAIL,
    "Policy not served as text/plain (STS-15)",
    "{subject} is served as {content_type!r}; the media type must be text/plain.",
    _32,
    "Serve the file with the header Content-Type: text/plain; charset=utf-8",
)
POLICY_CHARSET = define(
    "mta_sts.policy.charset",
    Status.WARN,
    "Unexpected policy charset (STS-16)",
    "{subject} declares charset {charset!r}; only utf-8 and us-ascii are understood.",
    _32,
    "Serve the file with the header Content-Type: text/plain; charset=utf-8",
)
POLICY_TOO_LARGE = define(
    "mta_sts.policy.too_large",
    Status.FAIL,
    "Policy larger than 64 KiB (STS-17)",
    "{subject} is larger than {limit} bytes; senders stop reading and discard it.",
    "RFC 8461 §3.3, §10.2",
    "Serve only the policy fields (version, mode, mx, max_age), far below 64 KiB.",
)
POLICY_SLOW = define(
    "mta_sts.policy.slow",
    Status.WARN,
    "Policy host answers slowly (STS-17)",
    "{subject} took {elapsed:.1f} s; senders may give up (they wait at most about a minute).",
    _33,
    "Serve the policy file as a static file from a host that answers at once; it is a few"
    " hundred bytes.",
)
POLICY_HTML = define(
    "mta_sts.policy.html",
    Status.FAIL,
    "Policy URL returns a web page (STS-18)",
    "{subject} returns HTML (a default site, an error or challenge page), not a policy.",
    _32,
)
POLICY_ORPHANED = define(
    "mta_sts.policy.orphaned",
    Status.WARN,
    "Policy served but no MTA-STS record (STS-34)",
    "{subject} serves a policy, but without the _mta-sts TXT record senders never fetch it.",
    _31,
)

# --- the policy document, RFC 8461 §3.2 -----------------------------------------------------
POLICY_SYNTAX = define(
    "mta_sts.policy.syntax",
    Status.FAIL,
    "Policy syntax error (STS-19…STS-23)",
    "{subject}: {problem}.",
    _32,
    "Correct the file: `version: STSv1`, `mode: testing|enforce|none`, one `mx:` line per MX "
    "host, `max_age:` in seconds, one field per line; then publish a new id.",
)
POLICY_FORMAT = define(
    "mta_sts.policy.format",
    Status.WARN,
    "Policy formatting risk (STS-24)",
    "{subject}: {problem}.",
    _32,
)
POLICY_DUPLICATE_KEY = define(
    "mta_sts.policy.duplicate_key",
    Status.WARN,
    "Policy key repeated (STS-25)",
    "{subject}: {key} already appeared on line {first_line}; the first value is used.",
    _32,
)
POLICY_UNKNOWN_KEY = define(
    "mta_sts.policy.unknown_key",
    Status.INFO,
    "Unknown policy key (STS-25)",
    "{subject}: the key {key!r} is not defined and is ignored.",
    _32,
)
POLICY_MODE_TESTING = define(
    "mta_sts.policy.mode_testing",
    Status.WARN,
    "Policy in testing mode (STS-32)",
    "The policy is in testing mode: senders report failures but still deliver over an "
    "unauthenticated or downgraded connection, so mail is not yet protected.",
    "RFC 8461 §5",
    "Once TLS-RPT reports show no failures, switch to `mode: enforce` with `max_age` of at "
    "least 604800 and publish a new id.",
)
POLICY_MODE_NONE = define(
    "mta_sts.policy.mode_none",
    Status.WARN,  # no protection, but a deliberate state (opting out, §8.3)
    "Policy mode none (STS-32)",
    "The policy mode is none: MTA-STS is switched off (removal in progress?).",
    "RFC 8461 §5, §8.3",
)
POLICY_MAX_AGE_SHORT = define(
    "mta_sts.policy.max_age_short",
    Status.WARN,
    "max_age short for enforce (STS-31)",
    "max_age is {max_age} s; in enforce mode at least {minimum} s (one week) is advised so a "
    "downgrade cannot wait out the cache.",
    "RFC 8461 §3.2, §10.2",
    "Raise `max_age` to at least 604800 (one week) and publish a new id.",
)
POLICY_MAX_AGE_LONG = define(
    "mta_sts.policy.max_age_long",
    Status.FAIL,
    "max_age above the maximum (STS-21)",
    "max_age is {max_age} s; the maximum is {maximum} s (one year).",
    _32,
)

# --- the MX hosts against the policy, RFC 8461 §4.1 -----------------------------------------
MX_NOT_COVERED = define(
    "mta_sts.mx.not_covered",
    Status.FAIL,
    "MX host not in the policy (STS-26)",
    "The MX host {subject} matches no mx pattern of the policy ({patterns}); in {mode} mode "
    "senders {consequence}.",
    "RFC 8461 §4.1, §5",
    "Add an `mx:` line for every live MX host (`*.` covers exactly one label) and publish a "
    "new id.",
)
MX_PATTERN_UNUSED = define(
    "mta_sts.mx.pattern_unused",
    Status.INFO,
    "Policy pattern matches no MX host (STS-27)",
    "The mx pattern {subject} matches none of the current MX hosts.",
    "RFC 8461 §4.1",
)
MX_UNKNOWN = define(
    "mta_sts.mx.unknown",
    Status.ERROR,
    "MX coverage not tested",
    "The MX hosts of {subject} are unknown (their lookup failed), so coverage was not tested.",
    "RFC 8461 §4.1",
)
MX_NULL = define(
    "mta_sts.mx.null_mx",
    Status.INFO,
    "Domain accepts no mail (STS-37)",
    "{subject} publishes a null MX (RFC 7505): MTA-STS has nothing to protect.",
    "RFC 7505 §3",
)

OK = define(
    "mta_sts.ok",
    Status.PASS,
    "MTA-STS policy in force",
    "{subject} publishes an MTA-STS policy in {mode} mode (max_age {max_age} s) covering all"
    " {covered} MX host(s)",
    "RFC 8461 §3, §4.1",
)
