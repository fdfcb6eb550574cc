"""The normalised TLS-RPT report (RFC 8460 §4.4) and the limits a received report must respect.

Every value here has been cleaned by the parser: counts are non-negative ints, times are UTC,
domains are lower-case A-labels without a trailing dot, empty strings are ``None``. What had to be
changed to get there is listed in :attr:`TlsReport.notes`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from mailshield.core.model import Finding, JSONValue

__all__ = [
    "KNOWN_POLICY_TYPES",
    "KNOWN_RESULT_TYPES",
    "FailureDetail",
    "FailureReason",
    "ParseFailure",
    "ReportLimits",
    "ReportPolicy",
    "TlsReport",
]

MiB = 1024 * 1024

# RFC 8460 §4.4: "policy-type": "tlsa" / "sts" / "no-policy-found".
KNOWN_POLICY_TYPES = frozenset({"tlsa", "sts", "no-policy-found"})

# RFC 8460 §4.3 and the IANA registry of §6.6 (extensible: unknown values are kept verbatim).
KNOWN_RESULT_TYPES = frozenset(
    {
        "starttls-not-supported",
        "certificate-host-mismatch",
        "certificate-expired",
        "certificate-not-trusted",
        "validation-failure",
        "tlsa-invalid",
        "dnssec-invalid",
        "dane-required",
        "sts-policy-fetch-error",
        "sts-policy-invalid",
        "sts-webpki-invalid",
    }
)


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """Hard limits for one received report; exceeding one refuses the report as ``too_large``.

    The defaults follow RFC 8460 §5.2 ("a commonly seen receiver limit is 10 MB"). With them a
    report of 100,000 failure rows is refused: its JSON alone is well above 10 MiB, and no
    real reporter aggregates that finely (Google and Microsoft send tens of rows). Raise
    ``max_decompressed_bytes`` and ``max_failure_details`` together to accept such reports.
    ``bomb_ratio`` only chooses the reason: a stream that hits the size cap after expanding more
    than this many times is a ``decompression_bomb``, otherwise it is ``too_large``.
    """

    max_compressed_bytes: int = 10 * MiB
    max_decompressed_bytes: int = 10 * MiB
    max_depth: int = 32
    max_policies: int = 1_000
    max_failure_details: int = 10_000  # per policy
    max_list_items: int = 1_000  # entries of one policy-string or mx-host array
    max_string_length: int = 2_048
    bomb_ratio: int = 100


class FailureReason(enum.StrEnum):
    """Why a received report was refused; stable codes, stored with the quarantined bytes."""

    TOO_LARGE = "too_large"  # input, output or a count above ReportLimits
    DECOMPRESSION_BOMB = "decompression_bomb"  # output cap hit at a bomb-like ratio
    BAD_GZIP = "bad_gzip"  # truncated or damaged gzip (RFC 1952)
    BAD_ZIP = "bad_zip"  # damaged or unsupported zip archive
    NOT_UTF8 = "not_utf8"  # RFC 7493 §2.1: I-JSON text is UTF-8
    BAD_JSON = "bad_json"  # not RFC 8259 JSON
    TOO_DEEP = "too_deep"  # nesting deeper than ReportLimits.max_depth
    WRONG_SCHEMA = "wrong_schema"  # not an RFC 8460 §4.4 report (no object, no policies …)
    MISSING_REPORT_ID = "missing_report_id"  # RFC 8460 §4.4 report-id absent or empty
    INTERNAL_ERROR = "internal_error"  # a parser bug; never expected, kept so parsing never raises


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A refused report: a stable ``reason``, a readable ``detail``, and notes made before."""

    reason: FailureReason
    detail: str
    notes: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureDetail:
    """One row of ``failure-details`` (RFC 8460 §4.4): a failure type and where it happened.

    ``result_type`` is lower-cased when it is a registered value, otherwise kept as sent.
    IP addresses are in canonical text form (RFC 5952 for IPv6) when they parse.
    """

    result_type: str
    failed_session_count: int
    sending_mta_ip: str | None = None
    receiving_mx_hostname: str | None = None
    receiving_mx_helo: str | None = None
    receiving_ip: str | None = None
    additional_information: str | None = None
    failure_reason_code: str | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "result-type": self.result_type,
            "failed-session-count": self.failed_session_count,
            "sending-mta-ip": self.sending_mta_ip,
            "receiving-mx-hostname": self.receiving_mx_hostname,
            "receiving-mx-helo": self.receiving_mx_helo,
            "receiving-ip": self.receiving_ip,
            "additional-information": self.additional_information,
            "failure-reason-code": self.failure_reason_code,
        }


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """One element of ``policies`` (RFC 8460 §4.4): the policy applied and its session counts.

    ``policy_strings`` holds one policy line (STS) or one TLSA RR in presentation form per
    element; ``mx_hosts`` the MX patterns of an STS policy. ``domain`` is ``None`` only when the
    reporter left ``policy-domain`` out.
    """

    policy_type: str
    domain: str | None
    policy_strings: tuple[str, ...]
    mx_hosts: tuple[str, ...]
    successful_sessions: int
    failed_sessions: int
    failure_details: tuple[FailureDetail, ...] = ()

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "policy-type": self.policy_type,
            "policy-domain": self.domain,
            "policy-string": list(self.policy_strings),
            "mx-host": list(self.mx_hosts),
            "total-successful-session-count": self.successful_sessions,
            "total-failure-session-count": self.failed_sessions,
            "failure-details": [detail.to_dict() for detail in self.failure_details],
        }


@dataclass(frozen=True, slots=True)
class TlsReport:
    """A received TLS-RPT report, normalised, with the notes on how it deviated from RFC 8460.

    ``start``/``end`` are aware UTC datetimes, or ``None`` when unreadable (noted).
    ``fingerprint`` is the SHA-256 (hex) of the decompressed bytes: identical re-sends share it.
    """

    organization_name: str
    report_id: str
    start: datetime | None
    end: datetime | None
    contact_info: str | None
    policies: tuple[ReportPolicy, ...]
    fingerprint: str
    notes: tuple[Finding, ...] = ()

    @property
    def dedupe_key(self) -> tuple[str, str]:
        """(organization-name, report-id), case-folded with whitespace collapsed (RFC 8460 §4.4).

        ``report-id`` is unique per reporter only, hence the organisation beside it.
        """
        return (_fold(self.organization_name), _fold(self.report_id))

    @property
    def policy_domains(self) -> tuple[str, ...]:
        """The distinct policy domains the report speaks of, sorted (empty ones left out)."""
        return tuple(sorted({p.domain for p in self.policies if p.domain}))

    @property
    def contact_domain(self) -> str | None:
        """The lower-cased domain of ``contact-info`` (RFC 8460 §5.3 compares it with the
        ``TLS-Report-Submitter`` header), or ``None`` when there is no ``@``."""
        if not self.contact_info or "@" not in self.contact_info:
            return None
        return self.contact_info.rpartition("@")[2].strip().rstrip(".").lower() or None

    def to_dict(self) -> dict[str, JSONValue]:
        """A JSON-able form using the RFC's member names, plus ``notes`` and ``fingerprint``."""
        return {
            "organization-name": self.organization_name,
            "report-id": self.report_id,
            "date-range": {
                "start-datetime": self.start.isoformat() if self.start else None,
                "end-datetime": self.end.isoformat() if self.end else None,
            },
            "contact-info": self.contact_info,
            "policies": [policy.to_dict() for policy in self.policies],
            "fingerprint": self.fingerprint,
            "notes": [note.to_dict() for note in self.notes],
        }


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()
