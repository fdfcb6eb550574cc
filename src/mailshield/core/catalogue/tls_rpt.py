"""TLS-RPT DNS record finding codes (RFC 8460 §3). Reference check IDs are RPT-nn / STS-33."""

from __future__ import annotations

from mailshield.core.findings import define
from mailshield.core.model import Status

_3 = "RFC 8460 §3"

RECORD_MISSING = define(
    "tls_rpt.record.missing",
    Status.INFO,
    "No TLS-RPT record (STS-33)",
    "No TXT record beginning with v=TLSRPTv1 at {subject}: senders send no TLS reports{why}.",
    _3,
    'Publish a TXT record _smtp._tls.<domain> "v=TLSRPTv1; rua=mailto:tlsrpt@<domain>".',
)
RECORD_LOOKUP_FAILED = define(
    "tls_rpt.record.lookup_failed",
    Status.ERROR,
    "TLS-RPT record lookup failed",
    "The TXT lookup of {subject} did not complete ({outcome}{detail}).",
    _3,
)
RECORD_MULTIPLE = define(
    "tls_rpt.record.multiple",
    Status.FAIL,
    "Several TLS-RPT records",
    "{count} TXT records at {subject} begin with v=TLSRPTv1: senders then send no reports.",
    _3,
    "Keep exactly one v=TLSRPTv1 TXT record.",
)
RECORD_INVALID = define(
    "tls_rpt.record.invalid",
    Status.FAIL,
    "TLS-RPT record invalid",
    "The TLS-RPT record at {subject} is invalid: {problem}. Senders ignore it.",
    _3,
    "Publish exactly: v=TLSRPTv1; rua=mailto:<address>",
)
RECORD_LENIENT_VERSION = define(
    "tls_rpt.record.lenient_version",
    Status.WARN,
    "Space before ';' after v=TLSRPTv1",
    "The record at {subject} has whitespace before the first ';'. The grammar allows it, but "
    'senders that select records by the prefix "v=TLSRPTv1;" discard it.',
    _3,
)
RECORD_DUPLICATE_FIELD = define(
    "tls_rpt.record.duplicate_field",
    Status.WARN,
    "Field repeated in the TLS-RPT record",
    "The field {field} appears {count} times in the record at {subject}; the first is used "
    "by most senders, others may reject the record.",
    _3,
)
RECORD_UNKNOWN_FIELD = define(
    "tls_rpt.record.unknown_field",
    Status.INFO,
    "Unknown field in the TLS-RPT record",
    "The field {field} in the record at {subject} is not defined and is ignored.",
    _3,
)
RUA_INVALID = define(
    "tls_rpt.rua.invalid",
    Status.WARN,
    "Unusable report destination",
    "The rua destination {subject} cannot receive reports: {problem}.",
    "RFC 8460 §3, RFC 6068 §2",
)
RUA_UNREACHABLE = define(
    "tls_rpt.rua.unreachable",
    Status.WARN,  # fail when no destination can receive reports
    "Report destination cannot be reached (RPT-06, RPT-07)",
    "Reports to {subject} cannot be delivered: {problem}.",
    "RFC 8460 §3, RFC 5321 §5.1, RFC 7505 §3",
)
