"""Parsing received TLS-RPT reports: corpus, refusals with stable reasons, limits, no raising."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailshield.core.documents.tls_report import (
    DEFAULT_LIMITS,
    FailureDetail,
    FailureReason,
    ReportLimits,
    ReportPolicy,
    TlsReport,
    TlsReportParse,
    parse_tls_report,
)
from mailshield.core.findings import catalogue

CORPUS = Path(__file__).parents[3] / "data" / "tlsrpt"
SAMPLES = Path(__file__).parents[4].parent / "shared" / "data" / "report-samples" / "tlsrpt"
MiB = 1024 * 1024


def _parse(name: str, limits: ReportLimits = DEFAULT_LIMITS) -> TlsReport:
    parsed = parse_tls_report((CORPUS / name).read_bytes(), limits)
    assert parsed.report is not None, parsed.failure
    return parsed.report


def _codes(report: TlsReport) -> set[str]:
    return {note.code for note in report.notes}


def _report(**changes: Any) -> dict[str, Any]:
    """A minimal conformant report document, with top-level members replaced."""
    doc: dict[str, Any] = {
        "organization-name": "Org",
        "date-range": {
            "start-datetime": "2024-05-01T00:00:00Z",
            "end-datetime": "2024-05-01T23:59:59Z",
        },
        "contact-info": "tlsrpt@org.example",
        "report-id": "r-1",
        "policies": [_policy()],
    }
    doc.update(changes)
    return doc


def _policy(details: list[Any] | None = None, **policy: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "policy": {"policy-type": "sts", "policy-domain": "example.com"} | policy,
        "summary": {"total-successful-session-count": 1, "total-failure-session-count": 0},
    }
    if details is not None:
        entry["failure-details"] = details
    return entry


def _encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _failure(data: bytes, limits: ReportLimits = DEFAULT_LIMITS) -> FailureReason:
    parsed = parse_tls_report(data, limits)
    assert parsed.failure is not None, parsed.report
    assert parsed.report is None
    return parsed.failure.reason


# --- the corpus ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        pytest.param("conformant.json", set(), id="conformant"),
        pytest.param("conformant.json.gz", set(), id="conformant-gzip"),
        pytest.param("google.json", set(), id="google"),
        pytest.param(
            "rfc8460-appendix-b.json",
            {"tls_report.mx_host.string", "tls_report.field.missing"},
            id="rfc-example-mx-host-string",
        ),
        pytest.param(
            "microsoft.json",
            {"tls_report.policy_string.json", "tls_report.date.no_offset"},
            id="microsoft-tlsa-json-no-offset",
        ),
        pytest.param("mailru.json", {"tls_report.field.missing"}, id="mailru-fetch-errors"),
        pytest.param(
            "no-policy-domain.json", {"tls_report.policy.domain_missing"}, id="no-policy-domain"
        ),
        pytest.param(
            "quirks.json",
            {
                "tls_report.json.duplicate_key",
                "tls_report.value.upper_case",
                "tls_report.count.not_integer",
                "tls_report.count.invalid",
                "tls_report.additional_info.uri_key",
                "tls_report.field.empty",
                "tls_report.domain.trailing_dot",
                "tls_report.domain.u_label",
                "tls_report.ip.invalid",
                "tls_report.result_type.unknown",
                "tls_report.policy_string.string",
                "tls_report.mx_host.pattern_key",
                "tls_report.mx_host.string",
                "tls_report.contact_info.missing",
                "tls_report.date.no_offset",
                "tls_report.date.not_rfc3339",
            },
            id="quirks",
        ),
    ],
)
def test_corpus_report_parses_with_its_notes(name: str, codes: set[str]) -> None:
    """Each corpus report parses and carries exactly the notes for its deviations."""
    assert _codes(_parse(name)) == codes


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("broken-truncated.json.gz", FailureReason.BAD_GZIP, id="truncated-gzip"),
        pytest.param("broken-invalid-utf8.json", FailureReason.NOT_UTF8, id="latin-1"),
        pytest.param("broken-bad-json.json", FailureReason.BAD_JSON, id="bad-json"),
        pytest.param("broken-top-level-array.json", FailureReason.WRONG_SCHEMA, id="array"),
        pytest.param("broken-missing-policies.json", FailureReason.WRONG_SCHEMA, id="no-policies"),
        pytest.param(
            "broken-missing-report-id.json", FailureReason.MISSING_REPORT_ID, id="no-report-id"
        ),
    ],
)
def test_broken_corpus_report_is_refused(name: str, reason: FailureReason) -> None:
    """Each broken corpus file is refused with its stable reason and a readable detail."""
    parsed = parse_tls_report((CORPUS / name).read_bytes())
    assert parsed.failure is not None
    assert (parsed.failure.reason, parsed.ok) == (reason, False)
    assert parsed.failure.detail


def test_conformant_report_is_normalised_completely() -> None:
    """The conformant report maps member by member onto the model (RFC 8460 §4.4)."""
    report = _parse("conformant.json")
    assert (report.organization_name, report.report_id) == (
        "Sender Example Inc.",
        "20240501.example.com.4f1c9a2e@sender.example",
    )
    assert (report.start, report.end) == (
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC),
    )
    assert report.contact_domain == "sender.example"
    (policy,) = report.policies
    assert (policy.policy_type, policy.domain, policy.successful_sessions) == (
        "sts",
        "example.com",
        4210,
    )
    assert policy.mx_hosts == ("mx1.example.com", "mx2.example.com", "*.mail.example.net")
    assert policy.policy_strings[1] == "mode: enforce"
    assert policy.failure_details[0] == FailureDetail(
        result_type="certificate-host-mismatch",
        failed_session_count=12,
        sending_mta_ip="198.51.100.25",
        receiving_mx_hostname="mx2.example.com",
        receiving_mx_helo="mx2.example.com",
        receiving_ip="203.0.113.12",
        failure_reason_code="X509_V_ERR_HOSTNAME_MISMATCH",
    )
    assert policy.failure_details[1].additional_information == (
        "https://tlsrpt.sender.example/details/4f1c9a2e#starttls"
    )


def test_gzip_and_plain_report_are_the_same_report() -> None:
    """The fingerprint is the SHA-256 of the decompressed bytes, so both forms agree."""
    plain, packed = _parse("conformant.json"), _parse("conformant.json.gz")
    assert plain == packed
    assert (
        plain.fingerprint == hashlib.sha256((CORPUS / "conformant.json").read_bytes()).hexdigest()
    )


def test_microsoft_tlsa_policy_string_json_becomes_presentation_lines() -> None:
    """A TLSA policy-string holding JSON is turned into "<u> <s> <m> <hex>" lines (§4.5)."""
    tlsa, sts = _parse("microsoft.json").policies
    assert tlsa.policy_type == "tlsa"
    assert [line.split()[:3] for line in tlsa.policy_strings] == [["3", "1", "1"], ["2", "1", "2"]]
    assert tlsa.policy_strings[0].endswith(
        "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1"
    )
    assert sts.mx_hosts == ("mx.example.de", "mx-backup.example.de")


def test_mailru_failure_reason_text_is_kept() -> None:
    """Free-text failure-reason-code values and address-less fetch errors are kept as sent."""
    (policy,) = _parse("mailru.json").policies
    assert [d.failure_reason_code for d in policy.failure_details] == [
        "bad https response code: 404",
        "bad https response code: 500",
    ]
    assert {d.sending_mta_ip for d in policy.failure_details} == {None}
    assert policy.failed_sessions == 1  # smaller than the sum of details: allowed (§4.4)


def test_quirky_report_values_are_normalised() -> None:
    """Each tolerated deviation of quirks.json ends up as a clean value."""
    report = _parse("quirks.json")
    assert report.report_id == "Q-2024-03-01"  # the first of two report-id members
    assert report.contact_info is None
    assert report.start == datetime(2024, 3, 1, tzinfo=UTC)
    (policy,) = report.policies
    assert (policy.policy_type, policy.domain) == ("sts", "xn--bcher-kva.example")
    assert policy.mx_hosts == ("mx.xn--bcher-kva.example",)
    assert len(policy.policy_strings) == 4
    assert (policy.successful_sessions, policy.failed_sessions) == (12, 7)
    first, second = policy.failure_details
    assert (first.result_type, first.failed_session_count) == ("certificate-expired", 3)
    assert (first.sending_mta_ip, first.receiving_ip) == (None, "192.0.2.010")
    assert first.receiving_mx_hostname == "mx.xn--bcher-kva.example"
    assert first.additional_information == "https://quirky.example/info/1"
    assert (second.result_type, second.failed_session_count) == ("tls-1.0-refused", 0)
    assert second.sending_mta_ip == "2001:db8::1"


def test_notes_count_repeated_deviations_once() -> None:
    """A deviation repeated on every row is one note with a count and the first place seen."""
    rows = [{"result-type": "starttls-not-supported", "failed-session-count": 1}] * 50
    parsed = parse_tls_report(_encode(_report(policies=[_policy(rows)])))
    assert parsed.report is not None
    missing = [n for n in parsed.notes if n.code == "tls_report.field.missing"]
    assert {n.params["field"] for n in missing} == {
        "sending-mta-ip",
        "receiving-mx-hostname",
        "receiving-ip",
    }
    assert {n.params["count"] for n in missing} == {50}
    assert missing[0].subject == "policies[0].failure-details[0]"


def test_every_note_code_is_in_the_catalogue() -> None:
    """Notes use only codes defined in the findings catalogue."""
    defined = catalogue()
    report = _parse("quirks.json")
    assert all(note.code in defined for note in report.notes)


@pytest.mark.parametrize(
    ("organization", "report_id"),
    [
        pytest.param("Google Inc.", "2024-09-03T00:00:00Z_example.org", id="as-sent"),
        pytest.param("google inc.", "2024-09-03t00:00:00z_EXAMPLE.ORG", id="case"),
        pytest.param("  Google   Inc. ", " 2024-09-03T00:00:00Z_example.org\n", id="whitespace"),
    ],
)
def test_dedupe_key_ignores_case_and_whitespace(organization: str, report_id: str) -> None:
    """Re-sends that differ in case or whitespace share one dedupe key (RFC 8460 §4.4)."""
    doc = _report(**{"organization-name": organization, "report-id": report_id})
    parsed = parse_tls_report(_encode(doc))
    assert parsed.report is not None
    assert parsed.report.dedupe_key == ("google inc.", "2024-09-03t00:00:00z_example.org")


# --- refusals and tolerances of the schema -------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        pytest.param("just a string", FailureReason.WRONG_SCHEMA, id="string-document"),
        pytest.param(_report(policies="none"), FailureReason.WRONG_SCHEMA, id="policies-string"),
        pytest.param(_report(policies=[1, "x"]), FailureReason.WRONG_SCHEMA, id="no-readable"),
        pytest.param(
            _report(policies=[{"policy": {}}]), FailureReason.WRONG_SCHEMA, id="no-policy-type"
        ),
        pytest.param(_report(**{"report-id": ""}), FailureReason.MISSING_REPORT_ID, id="empty-id"),
        pytest.param(_report(**{"report-id": None}), FailureReason.MISSING_REPORT_ID, id="null-id"),
        pytest.param(
            _report(**{"report-id": ["x"]}), FailureReason.MISSING_REPORT_ID, id="array-id"
        ),
    ],
)
def test_schema_refusals(doc: Any, reason: FailureReason) -> None:
    """Documents that are not TLS-RPT reports are refused with a stable reason."""
    assert _failure(_encode(doc)) is reason


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        pytest.param(_report(policies=_policy()), "tls_report.policies.not_array", id="object"),
        pytest.param(_report(policies=[]), "tls_report.policies.empty", id="empty-policies"),
        pytest.param(_report(policies=[_policy(), 7]), "tls_report.policy.skipped", id="skip"),
        pytest.param(_report(**{"report-id": 42}), "tls_report.field.wrong_type", id="numeric-id"),
        pytest.param(
            _report(**{"organization-name": None}),
            "tls_report.organization_name.missing",
            id="no-organization",
        ),
        pytest.param(_report(**{"date-range": None}), "tls_report.date.missing", id="no-dates"),
        pytest.param(
            _report(
                **{
                    "date-range": {
                        "start-datetime": "2024-05-02T00:00:00Z",
                        "end-datetime": "2024-05-01T00:00:00Z",
                    }
                }
            ),
            "tls_report.date.reversed",
            id="reversed-dates",
        ),
        pytest.param(
            _report(policies=[{"policy": {"policy-type": "sts"}}]),
            "tls_report.summary.missing",
            id="no-summary",
        ),
        pytest.param(
            _report(policies=[_policy(**{"policy-type": "dane"})]),
            "tls_report.policy_type.unknown",
            id="unknown-policy-type",
        ),
        pytest.param(
            _report(policies=[_policy(**{"policy-domain": "a..b"})]),
            "tls_report.domain.invalid",
            id="invalid-domain",
        ),
        pytest.param(
            _report(policies=[_policy(details={"x": 1})]),
            "tls_report.failure_details.not_array",
            id="details-object",
        ),
        pytest.param(
            _report(policies=[_policy(details=[None])]),
            "tls_report.failure_detail.skipped",
            id="detail-null",
        ),
        pytest.param(
            _report(policies=[_policy(details=[{"failed-session-count": 1}])]),
            "tls_report.result_type.missing",
            id="no-result-type",
        ),
        pytest.param(
            _report(policies=[_policy(**{"mx-host": {"a": 1}})]),
            "tls_report.field.wrong_type",
            id="mx-host-object",
        ),
    ],
)
def test_schema_tolerances_are_noted(doc: Any, code: str) -> None:
    """Deviations that still leave a usable report are accepted and noted."""
    parsed = parse_tls_report(_encode(doc))
    assert parsed.report is not None, parsed.failure
    assert code in {note.code for note in parsed.notes}


def test_failures_counted_without_details_are_noted() -> None:
    """A policy that counts failures but lists none gets a note; one without failures does not."""
    with_failures = _policy()
    with_failures["summary"]["total-failure-session-count"] = 3
    parsed = parse_tls_report(_encode(_report(policies=[with_failures, _policy()])))
    notes = [n for n in parsed.notes if n.code == "tls_report.failure_details.missing"]
    assert [(n.subject, n.params["count"]) for n in notes] == [("policies[0]", 1)]


def test_byte_order_mark_is_skipped() -> None:
    """A UTF-8 byte order mark before the JSON is skipped and noted (RFC 8259 §8.1)."""
    parsed = parse_tls_report(b"\xef\xbb\xbf" + _encode(_report()))
    assert parsed.report is not None
    assert [n.code for n in parsed.notes] == ["tls_report.json.bom"]


def test_gzip_trailing_bytes_are_noted() -> None:
    """Bytes after the last gzip member are ignored and noted (RFC 1952 §2.2)."""
    parsed = parse_tls_report(gzip.compress(_encode(_report()), mtime=0) + b"\n")
    assert [n.code for n in parsed.notes] == ["tls_report.gzip.trailing_data"]


def test_unknown_members_are_ignored() -> None:
    """Members the schema does not define, however deep within the cap, are ignored."""
    doc = _report(extension={"a": [{"b": [1, 2]}]})
    doc["policies"][0]["policy"]["mx-service"] = "smtp"
    parsed = parse_tls_report(_encode(doc))
    assert parsed.report is not None
    assert parsed.notes == ()


# --- limits --------------------------------------------------------------------------------------


def _rows(count: int) -> str:
    row = (
        '{{"result-type":"validation-failure","sending-mta-ip":"10.{}.{}.{}",'
        '"receiving-mx-hostname":"mx.example.com","receiving-ip":"192.0.2.1",'
        '"failed-session-count":1,"failure-reason-code":"X509_V_ERR_CERT_HAS_EXPIRED"}}'
    )
    return ",".join(row.format(i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(count))


def _big_report(rows: int) -> bytes:
    """A report with one policy of ``rows`` failure rows, written without building objects."""
    head = json.dumps(_report(policies=[]))[:-3]  # cut the empty array and closing brace
    policy = (
        '{"policy":{"policy-type":"sts","policy-domain":"example.com"},'
        f'"summary":{{"total-successful-session-count":0,"total-failure-session-count":{rows}}},'
        f'"failure-details":[{_rows(rows)}]}}'
    )
    return f"{head}[{policy}]}}".encode()


def test_report_of_100k_failure_rows_is_too_large_by_default() -> None:
    """The documented choice: 100,000 failure rows exceed the default limits (``too_large``)."""
    data = _big_report(100_000)
    assert len(data) > DEFAULT_LIMITS.max_decompressed_bytes
    assert _failure(data) is FailureReason.TOO_LARGE
    assert _failure(gzip.compress(data, mtime=0)) is FailureReason.TOO_LARGE


def test_report_of_100k_failure_rows_parses_with_raised_limits() -> None:
    """With the size and row limits raised, the same report parses completely."""
    limits = ReportLimits(max_decompressed_bytes=64 * MiB, max_failure_details=100_000)
    parsed = parse_tls_report(gzip.compress(_big_report(100_000), mtime=0), limits)
    assert parsed.report is not None, parsed.failure
    (policy,) = parsed.report.policies
    assert len(policy.failure_details) == 100_000
    assert sum(d.failed_session_count for d in policy.failure_details) == 100_000
    assert policy.failure_details[-1].sending_mta_ip == "10.1.134.159"
    assert parsed.notes == ()


@pytest.mark.parametrize(
    ("data", "limits", "reason"),
    [
        pytest.param(
            _big_report(11),
            ReportLimits(max_failure_details=10),
            FailureReason.TOO_LARGE,
            id="failure-rows",
        ),
        pytest.param(
            _encode(_report(policies=[_policy()] * 3)),
            ReportLimits(max_policies=2),
            FailureReason.TOO_LARGE,
            id="policies",
        ),
        pytest.param(
            _encode(_report(policies=[_policy(**{"mx-host": ["a.example"] * 4})])),
            ReportLimits(max_list_items=3),
            FailureReason.TOO_LARGE,
            id="mx-hosts",
        ),
        pytest.param(
            _encode(_report()),
            ReportLimits(max_compressed_bytes=100),
            FailureReason.TOO_LARGE,
            id="input-bytes",
        ),
        pytest.param(
            _encode(_report()),
            ReportLimits(max_decompressed_bytes=100),
            FailureReason.TOO_LARGE,
            id="plain-json-bytes",
        ),
        pytest.param(
            _encode(_report(x=[[[[[]]]]])),
            ReportLimits(max_depth=4),
            FailureReason.TOO_DEEP,
            id="depth",
        ),
        pytest.param(b"[" * 200_000, DEFAULT_LIMITS, FailureReason.TOO_DEEP, id="deep-brackets"),
    ],
)
def test_limits_refuse_reports(data: bytes, limits: ReportLimits, reason: FailureReason) -> None:
    """Every hard limit refuses the report with a stable reason."""
    assert _failure(data, limits) is reason


def test_gzip_bomb_is_refused_as_a_bomb() -> None:
    """Small input that inflates past the cap at a bomb ratio is ``decompression_bomb``."""
    bomb = gzip.compress(bytes(MiB), mtime=0) * 64  # 64 MiB of zeros from ~65 KB
    assert _failure(bomb, ReportLimits(max_decompressed_bytes=4 * MiB)) is (
        FailureReason.DECOMPRESSION_BOMB
    )


def test_honest_large_gzip_is_too_large_not_a_bomb() -> None:
    """A report that is merely large (low ratio) is ``too_large``."""
    noise = hashlib.sha256().hexdigest().encode()
    data = b"".join(
        hashlib.sha256(noise + bytes([i % 256, i // 256])).hexdigest().encode()
        for i in range(40_000)
    )
    assert _failure(gzip.compress(data, mtime=0), ReportLimits(max_decompressed_bytes=MiB)) is (
        FailureReason.TOO_LARGE
    )


def test_long_strings_are_cut_and_noted() -> None:
    """A string over the length limit is cut to it and noted."""
    detail = {
        "result-type": "validation-failure",
        "failed-session-count": 1,
        "failure-reason-code": "x" * 5000,
    }
    parsed = parse_tls_report(_encode(_report(policies=[_policy([detail])])))
    assert parsed.report is not None
    (row,) = parsed.report.policies[0].failure_details
    assert row.failure_reason_code == "x" * DEFAULT_LIMITS.max_string_length
    assert "tls_report.field.truncated" in {n.code for n in parsed.notes}


# --- never raises --------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELDS = [
    "organization-name",
    "report-id",
    "contact-info",
    "date-range",
    "policies",
    "policy",
    "policy-type",
    "policy-string",
    "policy-domain",
    "mx-host",
    "summary",
    "failure-details",
    "result-type",
    "sending-mta-ip",
    "receiving-ip",
    "receiving-mx-hostname",
    "failed-session-count",
    "total-successful-session-count",
    "start-datetime",
]


def _mutate(doc: Any, path: list[int], value: Any) -> Any:
    """``doc`` with the member or element chosen by ``path`` replaced by ``value``."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[key] = _mutate(doc[key], path[1:], value)  # type: ignore[index]
    return copy


def _check_invariants(parsed: TlsReportParse) -> None:
    assert (parsed.report is None) != (parsed.failure is None)
    if parsed.failure is not None:
        assert parsed.failure.reason is not FailureReason.INTERNAL_ERROR, parsed.failure.detail
        return
    report = parsed.report
    assert report is not None
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    for moment in (report.start, report.end):
        assert moment is None or moment.tzinfo is UTC
    for policy in report.policies:
        assert isinstance(policy, ReportPolicy)
        assert min(policy.successful_sessions, policy.failed_sessions) >= 0
        assert all(d.failed_session_count >= 0 for d in policy.failure_details)


@given(st.binary(max_size=400))
def test_parse_never_raises_on_bytes(data: bytes) -> None:
    """Arbitrary bytes give a report or a failure with a stable reason."""
    _check_invariants(parse_tls_report(data))


@given(JSON_VALUES)
def test_parse_never_raises_on_json(value: Any) -> None:
    """Arbitrary JSON documents give a report or a failure, never an exception."""
    _check_invariants(parse_tls_report(json.dumps(value).encode()))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["conformant.json", "quirks.json", "microsoft.json", "mailru.json"]),
    st.lists(st.integers(min_value=0, max_value=50), max_size=6),
    JSON_VALUES | st.sampled_from(FIELDS),
    st.booleans(),
)
def test_parse_never_raises_on_mutated_reports(
    name: str, path: list[int], value: Any, packed: bool
) -> None:
    """Replacing any part of a real-shaped report with any JSON value never breaks the parser."""
    doc = _mutate(json.loads((CORPUS / name).read_bytes()), path, value)
    data = json.dumps(doc).encode()
    _check_invariants(parse_tls_report(gzip.compress(data, mtime=0) if packed else data))


@given(st.text(max_size=60))
def test_parse_never_raises_on_odd_strings(text: str) -> None:
    """Odd strings (surrogate escapes, U-labels, huge numbers) in every field are handled."""
    doc = _report(
        policies=[
            _policy([dict.fromkeys(FIELDS, text)], **{"policy-domain": text, "mx-host": text})
        ]
    )
    doc["report-id"] = text or "x"
    _check_invariants(parse_tls_report(json.dumps(doc).encode()))


# --- real reports collected by others ------------------------------------------------------------


def _real_json_samples() -> list[Path]:
    return sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []


# Notes expected on the samples known when this was written; other files need only parse.
KNOWN_SAMPLE_NOTES = {
    "rfc8460.json": {"tls_report.mx_host.string", "tls_report.field.missing"},
    "mail.ru.json": {"tls_report.field.missing"},
    "smtp_tls.json": set(),
}


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"shared samples absent: {SAMPLES}")
@pytest.mark.parametrize("path", _real_json_samples(), ids=lambda p: p.name)
def test_real_sample_parses(path: Path) -> None:
    """Every real JSON report in the shared samples parses, noted where it deviates."""
    parsed = parse_tls_report(path.read_bytes())
    assert parsed.report is not None, parsed.failure
    assert parsed.report.policies
    codes = {note.code for note in parsed.notes}
    assert codes <= set(catalogue())
    assert codes == KNOWN_SAMPLE_NOTES.get(path.name, codes)
