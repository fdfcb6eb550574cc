"""Walking a parsed TLS-RPT JSON document into the normalised model (RFC 8460 §4.4).

The schema, as the RFC draws it (§4.4; only ``receiving-mx-helo`` and
``additional-information`` are marked optional)::

    { "organization-name": organization-name,
      "date-range": { "start-datetime": date-time, "end-datetime": date-time },
      "contact-info": email-address,
      "report-id": report-id,
      "policies": [ { "policy": { "policy-type": policy-type,
                                  "policy-string": policy-string,
                                  "policy-domain": domain,
                                  "mx-host": mx-host-pattern },
                      "summary": { "total-successful-session-count": ...,
                                   "total-failure-session-count": ... },
                      "failure-details": [ { "result-type": ..., "sending-mta-ip": ...,
                                             "receiving-mx-hostname": ...,
                                             "receiving-mx-helo": ..., "receiving-ip": ...,
                                             "failed-session-count": ...,
                                             "additional-information": ...,
                                             "failure-reason-code": ... } ] } ] }

Required to go on: an object, a ``report-id``, a ``policies`` array with at least one readable
policy (an object with ``policy.policy-type``). Everything else is tolerated and noted. The
failure-detail loop is the hot path: common well-formed values take a branch-free fast path and
IP/host normalisation is cached per distinct value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailshield.core.catalogue import tls_report as note
from mailshield.core.documents.notes import NoteLog
from mailshield.core.documents.tls_report_fields import FieldReader, json_kind, shown
from mailshield.core.documents.tls_report_model import (
    KNOWN_POLICY_TYPES,
    KNOWN_RESULT_TYPES,
    FailureDetail,
    FailureReason,
    ParseFailure,
    ReportLimits,
    ReportPolicy,
    TlsReport,
)
from mailshield.core.documents.tls_report_values import (
    MAX_COUNT,
    Quirk,
    read_datetime,
    tlsa_lines_from_json,
)
from mailshield.core.findings import FindingSpec

__all__ = ["read_report"]

_DATE_NOTES: dict[Quirk, tuple[FindingSpec, ...]] = {
    Quirk.MISSING: (note.DATE_MISSING,),
    Quirk.NO_OFFSET: (note.DATE_NO_OFFSET,),
    Quirk.NOT_RFC3339: (note.DATE_NOT_RFC3339,),
    Quirk.NO_OFFSET_NOT_RFC3339: (note.DATE_NO_OFFSET, note.DATE_NOT_RFC3339),
}


def read_report(
    doc: Any, limits: ReportLimits, notes: NoteLog, fingerprint: str
) -> TlsReport | ParseFailure:
    """The normalised report in ``doc`` (parsed JSON), or why it is not a TLS-RPT report."""
    return _Reader(limits, notes).report(doc, fingerprint)


class _Reader(FieldReader):
    """One walk over one document: the schema's structure, member readers inherited."""

    # --- report level ------------------------------------------------------------------------

    def report(self, doc: Any, fingerprint: str) -> TlsReport | ParseFailure:
        if not isinstance(doc, dict):
            return self.fail(FailureReason.WRONG_SCHEMA, f"top level is a JSON {json_kind(doc)}")
        report_id = self.text(doc.get("report-id"), "report-id", "report-id")
        if report_id is None:
            return self.fail(FailureReason.MISSING_REPORT_ID, "report-id is absent or empty")
        policies = self.policies(doc.get("policies"))
        if isinstance(policies, ParseFailure):
            return policies
        raw_organization = doc.get("organization-name")
        organization = self.text(raw_organization, "organization-name", "organization-name")
        if raw_organization is None:
            self.notes.add(note.ORGANIZATION_MISSING, "organization-name")
        raw_contact = doc.get("contact-info")
        contact = self.text(raw_contact, "contact-info", "contact-info")
        if raw_contact is None:  # absent or JSON null
            self.notes.add(note.CONTACT_INFO_MISSING, "contact-info")
        start, end = self.date_range(doc.get("date-range"))
        return TlsReport(
            organization_name=organization or "",
            report_id=report_id,
            start=start,
            end=end,
            contact_info=contact,
            policies=policies,
            fingerprint=fingerprint,
            notes=self.notes.findings(),
        )

    def date_range(self, value: Any) -> tuple[datetime | None, datetime | None]:
        """(start, end) from ``date-range`` (RFC 8460 §4.4), each ``None`` when unreadable."""
        span = value if isinstance(value, dict) else {}
        times: list[datetime | None] = []
        for key in ("start-datetime", "end-datetime"):
            raw = span.get(key)
            moment, quirk = read_datetime(raw)
            if quirk is not Quirk.NONE:
                for spec in _DATE_NOTES.get(quirk, ()):
                    self.notes.add(spec, f"date-range.{key}", group=key, value=shown(raw))
            times.append(moment)
        start, end = times
        if start and end and end < start:
            self.notes.add(note.DATE_REVERSED, "date-range")
        return start, end

    def policies(self, value: Any) -> tuple[ReportPolicy, ...] | ParseFailure:
        """The readable policies; unreadable entries are skipped and noted, but at least one
        must remain (RFC 8460 §4.4: "policies" MUST be an array, even of one)."""
        if value is None:
            return self.fail(FailureReason.WRONG_SCHEMA, "the report has no policies member")
        if isinstance(value, dict):
            self.notes.add(note.POLICIES_NOT_ARRAY, "policies")
            value = [value]
        if not isinstance(value, list):
            return self.fail(FailureReason.WRONG_SCHEMA, f"policies is a JSON {json_kind(value)}")
        if len(value) > self.limits.max_policies:
            return self.fail(
                FailureReason.TOO_LARGE,
                f"{len(value)} policies, more than the limit of {self.limits.max_policies}",
            )
        if not value:
            self.notes.add(note.POLICIES_EMPTY, "policies")
            return ()
        out = []
        for index, item in enumerate(value):
            policy = self.policy(item, f"policies[{index}]")
            if isinstance(policy, ParseFailure):
                return policy
            if policy is not None:
                out.append(policy)
        if not out:
            return self.fail(FailureReason.WRONG_SCHEMA, "no policy entry could be read")
        return tuple(out)

    # --- policy level ------------------------------------------------------------------------

    def policy(self, item: Any, where: str) -> ReportPolicy | ParseFailure | None:
        """One ``policies`` entry; ``None`` (noted) when it has no ``policy.policy-type``."""
        if not isinstance(item, dict):
            self.notes.add(note.POLICY_SKIPPED, where, why="it is not an object")
            return None
        spec = item.get("policy")
        if not isinstance(spec, dict):
            self.notes.add(note.POLICY_SKIPPED, where, why="it has no policy object")
            return None
        policy_type = self.registered(
            spec.get("policy-type"),
            KNOWN_POLICY_TYPES,
            f"{where}.policy.policy-type",
            "policy-type",
            note.POLICY_TYPE_UNKNOWN,
        )
        if policy_type is None:
            self.notes.add(note.POLICY_SKIPPED, where, why="it has no policy-type")
            return None
        successful, failed = self.summary(item.get("summary"), where)
        details = self.failure_details(item.get("failure-details"), failed, where)
        if isinstance(details, ParseFailure):
            return details
        strings = self.policy_strings(spec.get("policy-string"), policy_type, where)
        hosts = self.mx_hosts(spec, where)
        if isinstance(strings, ParseFailure):
            return strings
        if isinstance(hosts, ParseFailure):
            return hosts
        return ReportPolicy(
            policy_type=policy_type,
            domain=self.policy_domain(spec.get("policy-domain"), where),
            policy_strings=strings,
            mx_hosts=hosts,
            successful_sessions=successful,
            failed_sessions=failed,
            failure_details=details,
        )

    def policy_domain(self, value: Any, where: str) -> str | None:
        text = self.text(value, f"{where}.policy.policy-domain", "policy-domain")
        if text is None:
            self.notes.add(note.POLICY_DOMAIN_MISSING, where)
            return None
        return self.host(text, f"{where}.policy.policy-domain", "policy-domain")

    def summary(self, value: Any, where: str) -> tuple[int, int]:
        if not isinstance(value, dict):
            self.notes.add(note.SUMMARY_MISSING, where)
            return 0, 0
        here = f"{where}.summary"
        return (
            self.count(
                value.get("total-successful-session-count"), here, "total-successful-session-count"
            ),
            self.count(
                value.get("total-failure-session-count"), here, "total-failure-session-count"
            ),
        )

    def policy_strings(
        self, value: Any, policy_type: str, where: str
    ) -> tuple[str, ...] | ParseFailure:
        """``policy-string`` lines (RFC 8460 §4.5); a bare string is split into lines, and for
        TLSA a JSON rendering of the records is turned into presentation lines."""
        here = f"{where}.policy.policy-string"
        if value is None:
            return ()
        if isinstance(value, str):
            self.notes.add(note.POLICY_STRING_STRING, here)
            json_like = value.lstrip()[:1] in ("{", "[")
            value = [value] if json_like else value.splitlines()
        items = self.string_list(value, here, "policy-string")
        if isinstance(items, ParseFailure) or policy_type != "tlsa":
            return items
        return self.tlsa_lines(items, here)

    def tlsa_lines(self, items: tuple[str, ...], here: str) -> tuple[str, ...]:
        lines: list[str] = []
        for item in items:
            converted = tlsa_lines_from_json(item) if item.lstrip()[:1] in ("{", "[") else None
            if converted is None:
                lines.append(item)
            else:
                self.notes.add(note.POLICY_STRING_JSON, here, converted=len(converted))
                lines.extend(self.clip(line, here, "policy-string") for line in converted)
        return tuple(lines)

    def mx_hosts(self, spec: dict[str, Any], where: str) -> tuple[str, ...] | ParseFailure:
        """``mx-host`` patterns (RFC 8460 §4.4); also read from ``mx-host-pattern`` or a string."""
        here = f"{where}.policy.mx-host"
        value = spec.get("mx-host")
        if value is None and "mx-host-pattern" in spec:
            self.notes.add(note.MX_HOST_PATTERN_KEY, here)
            value = spec["mx-host-pattern"]
        if value is None:
            return ()
        if isinstance(value, str):
            self.notes.add(note.MX_HOST_STRING, here)
            value = value.replace(",", " ").split()
        items = self.string_list(value, here, "mx-host")
        if isinstance(items, ParseFailure):
            return items
        return tuple(self.host(item, here, "mx-host", wildcard=True) for item in items)

    # --- failure details (hot path) ------------------------------------------------------------

    def failure_details(
        self, value: Any, failed: int, where: str
    ) -> tuple[FailureDetail, ...] | ParseFailure:
        if value is None:
            if failed:
                self.notes.add(note.FAILURE_DETAILS_MISSING, where)
            return ()
        if not isinstance(value, list):
            self.notes.add(note.FAILURE_DETAILS_NOT_ARRAY, f"{where}.failure-details")
            return ()
        if len(value) > self.limits.max_failure_details:
            return self.fail(
                FailureReason.TOO_LARGE,
                f"{where} has {len(value)} failure-details, more than the limit of"
                f" {self.limits.max_failure_details}",
            )
        detail = self.failure_detail
        rows = (detail(row, f"{where}.failure-details[{index}]") for index, row in enumerate(value))
        return tuple(row for row in rows if row is not None)

    def failure_detail(self, row: Any, here: str) -> FailureDetail | None:
        """One ``failure-details`` row. Registered result types and plain integer counts skip
        the slow readers; result types outside the registry are kept as sent (§4.3, §6.6)."""
        if type(row) is not dict:
            self.notes.add(note.FAILURE_DETAIL_SKIPPED, here)
            return None
        get = row.get
        result_type = get("result-type")
        if type(result_type) is not str or result_type not in KNOWN_RESULT_TYPES:
            result_type = self.result_type(result_type, here)
        count = get("failed-session-count")
        if type(count) is not int or not 0 <= count <= MAX_COUNT:
            count = self.count(count, here, "failed-session-count")
        info = get("additional-information")
        if info is None and "additional-info-uri" in row:
            self.notes.add(note.ADDITIONAL_INFO_URI_KEY, here)
            info = get("additional-info-uri")
        return FailureDetail(
            result_type=result_type,
            failed_session_count=count,
            sending_mta_ip=self.ip(get("sending-mta-ip"), here, "sending-mta-ip"),
            receiving_mx_hostname=self.mx_hostname(get("receiving-mx-hostname"), here),
            receiving_mx_helo=self.optional_text(
                get("receiving-mx-helo"), here, "receiving-mx-helo"
            ),
            receiving_ip=self.ip(get("receiving-ip"), here, "receiving-ip"),
            additional_information=self.optional_text(info, here, "additional-information"),
            failure_reason_code=self.optional_text(
                get("failure-reason-code"), here, "failure-reason-code"
            ),
        )

    def result_type(self, value: Any, here: str) -> str:
        found = self.registered(
            value,
            KNOWN_RESULT_TYPES,
            f"{here}.result-type",
            "result-type",
            note.RESULT_TYPE_UNKNOWN,
        )
        if found is None:
            self.notes.add(note.RESULT_TYPE_MISSING, here)
            return ""
        return found
