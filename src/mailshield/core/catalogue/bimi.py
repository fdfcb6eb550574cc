"""BIMI finding codes (draft-brand-indicators-for-message-identification). Titles carry BIMI-nn.

BIMI is optional: no record is info. A record that receivers cannot use, or a DMARC policy that
makes the domain ineligible, is fail; lookups that did not complete are error (could not test).
"""

from __future__ import annotations

from mailshield.core.findings import define
from mailshield.core.model import Status

_DNS = "BIMI draft §5 (BIMI DNS Records)"
_ELIGIBLE = "BIMI draft §8.1 (Receiver Eligibility)"

DOMAIN_INVALID = define(
    "bimi.domain.invalid",
    Status.ERROR,
    "Domain name cannot be checked",
    "{subject} is not a valid domain name: {problem}.",
    _DNS,
)
DNS_FAILED = define(
    "bimi.dns.failed",
    Status.ERROR,
    "BIMI record lookup failed",
    "The TXT lookup of {subject} did not complete ({outcome}).",
    _DNS,
)
RECORD_MISSING = define(
    "bimi.record.missing",
    Status.INFO,
    "No BIMI record (BIMI-01)",
    "Neither {subject} nor the Organizational Domain publishes a BIMI record at default._bimi:"
    " mailbox providers show no brand logo.",
    _DNS,
)
RECORD_MULTIPLE = define(
    "bimi.record.multiple",
    Status.FAIL,
    "More than one BIMI record (BIMI-02)",
    "{subject} has {count} records beginning with v=BIMI1: receivers use none of them.",
    "BIMI draft §8.2",
    "Keep a single v=BIMI1 record.",
)
RECORD_INVALID = define(
    "bimi.record.invalid",
    Status.FAIL,
    "BIMI record invalid (BIMI-03, BIMI-04, BIMI-06)",
    "{subject}: {problem}; receivers ignore the record.",
    _DNS,
    "Publish 'v=BIMI1; l=https://<host>/logo.svg; a=https://<host>/vmc.pem'.",
)
TAG_DUPLICATE = define(
    "bimi.tag.duplicate",
    Status.WARN,
    "Tag given twice",
    "{subject}: the tag {tag!r} appears more than once; receivers may use either value.",
    _DNS,
)
TAG_INVALID = define(
    "bimi.tag.invalid",
    Status.WARN,
    "Invalid optional tag (BIMI-10)",
    "{subject}: {tag}={value!r} is not valid ({expected}) and is ignored.",
    _DNS,
)
DECLINED = define(
    "bimi.declined",
    Status.INFO,
    "BIMI explicitly declined (BIMI-05)",
    "{subject} publishes empty l= and a=: the domain asks receivers to show no logo.",
    _DNS,
)
LOGO_NOT_SVG = define(
    "bimi.logo.not_svg",
    Status.WARN,
    "Logo URL does not name an SVG file (BIMI-06)",
    "{subject}: the logo {url} does not end in .svg or .svgz; indicators must be SVG Tiny PS.",
    "BIMI draft §5.3",
)
EVIDENCE_MISSING = define(
    "bimi.evidence.missing",
    Status.WARN,
    "No mark certificate (BIMI-09)",
    "{subject} has no a= evidence document: large mailbox providers show logos only with a"
    " Verified or Common Mark Certificate.",
    _DNS,
)
DMARC_NOT_ELIGIBLE = define(
    "bimi.dmarc.not_eligible",
    Status.FAIL,
    "DMARC policy not strict enough for BIMI (BIMI-07)",
    "{subject} is not eligible for BIMI: {reasons}. BIMI requires DMARC enforcement"
    " (p=quarantine or p=reject, pct=100, no sp=none).",
    _ELIGIBLE,
)
DMARC_UNKNOWN = define(
    "bimi.dmarc.unknown",
    Status.ERROR,
    "DMARC eligibility could not be tested",
    "The DMARC policy of {subject} could not be determined, so BIMI eligibility is unknown.",
    _ELIGIBLE,
)
PASS = define(
    "bimi.pass",
    Status.PASS,
    "BIMI record valid and domain eligible",
    "{subject} publishes a valid BIMI record with logo {url} and an enforcing DMARC policy.",
    _DNS,
)
