"""Notes on received TLS-RPT reports (RFC 8460 §4, §5): how a report deviated from the RFC.

Each note is a tolerated deviation: the report was still parsed and normalised, and the note says
what was changed. ``subject`` is the first place it was seen (a JSON path such as
``policies[0].failure-details[3].receiving-ip`` or a header name); ``count`` how often.
"""

from mailshield.core.findings import define
from mailshield.core.model import Status

INFO, WARN = Status.INFO, Status.WARN
_TIMES = " ({count}×)"

# --- container and JSON text -------------------------------------------------------------------
GZIP_TRAILING_DATA = define(
    "tls_report.gzip.trailing_data",
    INFO,
    "Bytes after the gzip data",
    "{bytes} bytes after the last gzip member were ignored.",
    "RFC 1952 §2.2",
)
CONTAINER_ZIP = define(
    "tls_report.container.zip",
    INFO,
    "Report sent as a zip archive",
    "The report was in a zip archive; RFC 8460 specifies gzip.",
    "RFC 8460 §5.2",
)
JSON_BOM = define(
    "tls_report.json.bom",
    INFO,
    "Byte order mark before the JSON",
    "The report starts with a UTF-8 byte order mark, which was skipped.",
    "RFC 8259 §8.1",
)
JSON_DUPLICATE_KEY = define(
    "tls_report.json.duplicate_key",
    WARN,
    "Duplicate JSON member name",
    "Member {key!r} appears more than once in one object at {subject}; the first value was"
    " kept" + _TIMES + ".",
    "RFC 7493 §2.3",
)
JSON_LONE_SURROGATE = define(
    "tls_report.json.lone_surrogate",
    WARN,
    "Unpaired surrogate escape in a string",
    "A string holds an unpaired UTF-16 surrogate escape; it was replaced by '?'" + _TIMES + ".",
    "RFC 7493 §2.1",
)

# --- report metadata ---------------------------------------------------------------------------
ORGANIZATION_MISSING = define(
    "tls_report.organization_name.missing",
    WARN,
    "organization-name missing",
    "The report has no usable organization-name.",
    "RFC 8460 §4.4",
)
CONTACT_INFO_MISSING = define(
    "tls_report.contact_info.missing",
    INFO,
    "contact-info missing or null",
    "The report's contact-info is absent, null or empty.",
    "RFC 8460 §4.4",
)
DATE_MISSING = define(
    "tls_report.date.missing",
    WARN,
    "Report period unreadable",
    "{subject} is absent or not a date-time: {value!r}.",
    "RFC 8460 §4.4",
)
DATE_NO_OFFSET = define(
    "tls_report.date.no_offset",
    WARN,
    "Date-time without a time zone",
    "{subject} = {value!r} has no UTC offset; UTC was assumed.",
    "RFC 3339 §5.6",
)
DATE_NOT_RFC3339 = define(
    "tls_report.date.not_rfc3339",
    INFO,
    "Date-time not in RFC 3339 form",
    "{subject} = {value!r} is not an RFC 3339 date-time but was understood.",
    "RFC 3339 §5.6",
)
DATE_REVERSED = define(
    "tls_report.date.reversed",
    WARN,
    "Report period ends before it starts",
    "The report period ends before it starts.",
    "RFC 8460 §4.1",
)

# --- policies ----------------------------------------------------------------------------------
POLICIES_NOT_ARRAY = define(
    "tls_report.policies.not_array",
    WARN,
    "policies is not an array",
    "policies is a single object; it was read as a one-element array.",
    "RFC 8460 §4.4",
)
POLICIES_EMPTY = define(
    "tls_report.policies.empty",
    INFO,
    "Report without policies",
    "The report's policies array is empty.",
    "RFC 8460 §4.4",
)
POLICY_SKIPPED = define(
    "tls_report.policy.skipped",
    WARN,
    "Unreadable policy entry",
    "Policy entry {subject} was skipped: {why}" + _TIMES + ".",
    "RFC 8460 §4.4",
)
POLICY_DOMAIN_MISSING = define(
    "tls_report.policy.domain_missing",
    WARN,
    "policy-domain missing",
    "Policy {subject} has no policy-domain" + _TIMES + ".",
    "RFC 8460 §4.4",
)
POLICY_TYPE_UNKNOWN = define(
    "tls_report.policy_type.unknown",
    WARN,
    "Unknown policy-type",
    "policy-type {value!r} at {subject} is not tlsa, sts or no-policy-found; kept as sent.",
    "RFC 8460 §4.4",
)
VALUE_UPPER_CASE = define(
    "tls_report.value.upper_case",
    INFO,
    "Registered value not in lower case",
    "{field} {value!r} at {subject} was read as {normal!r}" + _TIMES + ".",
    "RFC 8460 §4.3, §4.4",
)
DOMAIN_U_LABEL = define(
    "tls_report.domain.u_label",
    INFO,
    "Domain sent as U-label",
    "{field} {value!r} at {subject} was converted to its A-label {alabel!r}" + _TIMES + ".",
    "RFC 8460 §4.4",
)
DOMAIN_INVALID = define(
    "tls_report.domain.invalid",
    WARN,
    "Invalid domain name",
    "{field} {value!r} at {subject} is not a valid domain name; kept as sent" + _TIMES + ".",
    "RFC 8460 §4.4",
)
DOMAIN_TRAILING_DOT = define(
    "tls_report.domain.trailing_dot",
    INFO,
    "Domain with a trailing dot",
    "{field} {value!r} at {subject} had its trailing dot removed" + _TIMES + ".",
    "RFC 5321 §2.3.5",
)
MX_HOST_PATTERN_KEY = define(
    "tls_report.mx_host.pattern_key",
    INFO,
    "mx-host sent as mx-host-pattern",
    "The MX patterns at {subject} use the key mx-host-pattern (the schema's placeholder) instead"
    " of mx-host.",
    "RFC 8460 §4.4",
)
MX_HOST_STRING = define(
    "tls_report.mx_host.string",
    INFO,
    "mx-host is a string",
    "mx-host at {subject} is a string, not an array; it was wrapped" + _TIMES + ".",
    "RFC 8460 §4.4 (erratum 6241)",
)
POLICY_STRING_STRING = define(
    "tls_report.policy_string.string",
    INFO,
    "policy-string is a string",
    "policy-string at {subject} is a string, not an array; it was split into lines" + _TIMES + ".",
    "RFC 8460 §4.5",
)
POLICY_STRING_JSON = define(
    "tls_report.policy_string.json",
    INFO,
    "TLSA policy-string holds JSON",
    "policy-string at {subject} holds JSON instead of TLSA presentation lines; {converted} TLSA"
    " record(s) were read from it" + _TIMES + ".",
    "RFC 8460 §4.5",
)
SUMMARY_MISSING = define(
    "tls_report.summary.missing",
    WARN,
    "summary missing",
    "Policy {subject} has no summary; its session counts were taken as 0" + _TIMES + ".",
    "RFC 8460 §4.4",
)
COUNT_NOT_INTEGER = define(
    "tls_report.count.not_integer",
    INFO,
    "Session count not a JSON integer",
    "{field} {value!r} at {subject} is not a JSON integer; it was read as {number}" + _TIMES + ".",
    "RFC 8460 §4.4",
)
COUNT_INVALID = define(
    "tls_report.count.invalid",
    WARN,
    "Invalid session count",
    "{field} {value!r} at {subject} is not a non-negative integer; 0 was used" + _TIMES + ".",
    "RFC 8460 §4.4",
)
COUNT_MISSING = define(
    "tls_report.count.missing",
    WARN,
    "Session count missing",
    "{field} is absent at {subject}; 0 was used" + _TIMES + ".",
    "RFC 8460 §4.4",
)
FAILURE_DETAILS_MISSING = define(
    "tls_report.failure_details.missing",
    INFO,
    "Failures counted but not detailed",
    "Policy {subject} counts failed sessions but has no failure-details" + _TIMES + ".",
    "RFC 8460 §4.4",
)
FAILURE_DETAILS_NOT_ARRAY = define(
    "tls_report.failure_details.not_array",
    WARN,
    "failure-details is not an array",
    "failure-details at {subject} is not an array and was ignored" + _TIMES + ".",
    "RFC 8460 §4.4",
)

# --- failure details ---------------------------------------------------------------------------
FAILURE_DETAIL_SKIPPED = define(
    "tls_report.failure_detail.skipped",
    WARN,
    "Unreadable failure detail",
    "Failure detail {subject} is not an object and was skipped" + _TIMES + ".",
    "RFC 8460 §4.4",
)
RESULT_TYPE_UNKNOWN = define(
    "tls_report.result_type.unknown",
    INFO,
    "Unregistered result-type",
    "result-type {value!r} at {subject} is not in the registry; kept as sent" + _TIMES + ".",
    "RFC 8460 §4.3, §6.6",
)
RESULT_TYPE_MISSING = define(
    "tls_report.result_type.missing",
    WARN,
    "result-type missing",
    "Failure detail {subject} has no result-type" + _TIMES + ".",
    "RFC 8460 §4.4",
)
FIELD_EMPTY = define(
    "tls_report.field.empty",
    INFO,
    "Empty field",
    "{field} at {subject} is an empty string; treated as absent" + _TIMES + ".",
    "RFC 8460 §4.4",
)
FIELD_MISSING = define(
    "tls_report.field.missing",
    INFO,
    "Field omitted",
    "{field} is absent at {subject}" + _TIMES + ".",
    "RFC 8460 §4.4",
)
FIELD_WRONG_TYPE = define(
    "tls_report.field.wrong_type",
    WARN,
    "Field of the wrong JSON type",
    "{field} at {subject} should be a string, got {type}; numbers were converted, other values"
    " dropped" + _TIMES + ".",
    "RFC 8460 §4.4",
)
FIELD_TRUNCATED = define(
    "tls_report.field.truncated",
    WARN,
    "Field too long",
    "{field} at {subject} is longer than {limit} characters and was cut" + _TIMES + ".",
)
IP_INVALID = define(
    "tls_report.ip.invalid",
    WARN,
    "Invalid IP address",
    "{field} {value!r} at {subject} is not an IP address; kept as sent" + _TIMES + ".",
    "RFC 8460 §4.4",
)
ADDITIONAL_INFO_URI_KEY = define(
    "tls_report.additional_info.uri_key",
    INFO,
    "additional-info-uri used as key",
    "Failure detail {subject} uses the placeholder key additional-info-uri instead of"
    " additional-information" + _TIMES + ".",
    "RFC 8460 §4.4",
)

# --- report e-mail (RFC 8460 §5.3) ---------------------------------------------------------------
EMAIL_NOT_MULTIPART_REPORT = define(
    "tls_report.email.not_multipart_report",
    INFO,
    "Not a multipart/report TLS-RPT message",
    "The message is {content_type} (report-type {report_type!r}), not multipart/report with"
    " report-type=tlsrpt; the report was looked for leniently.",
    "RFC 8460 §5.3",
)
EMAIL_LENIENT_MEDIA_TYPE = define(
    "tls_report.email.lenient_media_type",
    INFO,
    "Report part with a generic media type",
    "MIME {subject} is {content_type} (file name {filename!r}), not application/tlsrpt+gzip or"
    " +json; it was accepted" + _TIMES + ".",
    "RFC 8460 §5.3, §6.4, §6.5",
)
EMAIL_DOMAIN_HEADER_MISSING = define(
    "tls_report.email.domain_header_missing",
    WARN,
    "TLS-Report-Domain header missing",
    "The message has no TLS-Report-Domain header field.",
    "RFC 8460 §5.3",
)
EMAIL_SUBMITTER_HEADER_MISSING = define(
    "tls_report.email.submitter_header_missing",
    WARN,
    "TLS-Report-Submitter header missing",
    "The message has no TLS-Report-Submitter header field.",
    "RFC 8460 §5.3",
)
EMAIL_SUBMITTER_MISMATCH = define(
    "tls_report.email.submitter_mismatch",
    WARN,
    "Submitter differs from contact-info",
    "TLS-Report-Submitter {header!r} is not the domain of contact-info {contact!r}.",
    "RFC 8460 §5.3",
)
EMAIL_DOMAIN_MISMATCH = define(
    "tls_report.email.domain_mismatch",
    WARN,
    "Report domain not among the policy domains",
    "TLS-Report-Domain {header!r} is not a policy-domain of the report ({domains}).",
    "RFC 8460 §5.3, §5.6",
)
EMAIL_PART_TOO_LARGE = define(
    "tls_report.email.part_too_large",
    WARN,
    "Report part too large",
    "MIME {subject} is larger than {limit} bytes and was skipped" + _TIMES + ".",
)
EMAIL_TOO_MANY_PARTS = define(
    "tls_report.email.too_many_parts",
    WARN,
    "Too many MIME parts",
    "The message has more than {limit} MIME parts or report attachments; the rest were ignored.",
)
