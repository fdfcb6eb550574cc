"""Finding codes that belong to no single protocol."""

from mailshield.core.findings import define
from mailshield.core.model import Status

NOT_APPLICABLE = define(
    "check.not_applicable",
    Status.NOT_APPLICABLE,
    "Does not apply",
    "{check} does not apply: {reason}",
)
INTERNAL_ERROR = define(
    "check.internal_error",
    Status.ERROR,
    "Could not test (internal error)",
    "{check} could not be completed because of an internal error: {error}",
)
INVALID_DOMAIN = define(
    "check.invalid_domain",
    Status.FAIL,
    "Not a valid domain name",
    "{subject!r} is not a valid domain name: {reason}",
    "RFC 1035 §2.3.1, RFC 5891",
)
