"""Finding TLS-RPT reports in e-mail (RFC 8460 §5.3): strict and lenient parts, headers, bounds."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailshield.core.documents.report_email import (
    EmailFailureReason,
    EmailLimits,
    ReportEmail,
    crosscheck,
    extract_report_email,
    parse_report_email,
)
from mailshield.core.documents.tls_report import FailureReason, parse_tls_report
from mailshield.core.findings import catalogue

CORPUS = Path(__file__).parents[3] / "data" / "tlsrpt"
SAMPLES = Path(__file__).parents[4].parent / "shared" / "data" / "report-samples" / "tlsrpt"
REPORT = (CORPUS / "conformant.json").read_bytes()


def _message(
    *parts: tuple[str, bytes],
    top: str = "multipart/report; report-type=tlsrpt",
    headers: str = "TLS-Report-Domain: example.com\r\nTLS-Report-Submitter: sender.example\r\n",
) -> bytes:
    """A MIME message with the given (Content-Type + extra header lines, body) parts."""
    lines = [
        "From: reports@sender.example",
        "Subject: Report Domain: example.com Submitter: sender.example Report-ID: <r@x>",
        "Message-ID: <m1@sender.example>",
        "MIME-Version: 1.0",
        f'Content-Type: {top}; boundary="b0"',
    ]
    out = "\r\n".join(lines) + "\r\n" + headers + "\r\n"
    body = b""
    for head, payload in parts:
        encoded = base64.encodebytes(payload).decode()
        body += (
            f"--b0\r\nContent-Type: {head}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{encoded}\r\n"
        ).encode()
    return out.encode() + body + b"--b0--\r\n"


def _codes(found: ReportEmail) -> set[str]:
    return {note.code for note in found.notes}


def test_google_style_message_yields_its_gzip_report() -> None:
    """A multipart/report message with an application/tlsrpt+gzip part gives that report."""
    found = extract_report_email((CORPUS / "google.eml").read_bytes())
    assert found.failure is None
    assert _codes(found) == set()
    (attachment,) = found.attachments
    assert attachment.content_type == "application/tlsrpt+gzip"
    assert attachment.filename == "google.com!example.org!1725321600!1725407999!001.json.gz"
    assert gzip.decompress(attachment.content) == (CORPUS / "google.json").read_bytes()
    assert (found.report_domain, found.report_submitter) == ("example.org", "google.com")
    assert found.message_id == "<66d83c20.050a0220.a0566.1e8dtls@google.com>"
    assert found.subject is not None
    assert found.subject.startswith("Report Domain: example.org")


def test_lenient_message_is_accepted_with_notes() -> None:
    """multipart/mixed with an octet-stream part named *.json.gz (RFC 2231) is accepted, noted."""
    parsed = parse_report_email((CORPUS / "lenient-mixed.eml").read_bytes())
    found = parsed.email
    assert _codes(found) == {
        "tls_report.email.not_multipart_report",
        "tls_report.email.lenient_media_type",
        "tls_report.email.submitter_header_missing",
    }
    (attachment,) = found.attachments
    assert attachment.filename is not None
    assert attachment.filename.startswith("microsoft.com!")
    assert found.subject == (
        "Report Domain: example.de Submitter: microsoft.com"
        " Report-ID: 133604787689984837+example.de"
    )
    (report,) = parsed.reports
    assert report.report is not None
    assert "tls_report.email.lenient_media_type" in {note.code for note in report.notes}


def test_single_part_message_body_is_the_report() -> None:
    """A non-multipart message whose body is application/tlsrpt+json is read leniently."""
    parsed = parse_report_email((CORPUS / "plain-body.eml").read_bytes())
    assert _codes(parsed.email) == {"tls_report.email.not_multipart_report"}
    (report,) = parsed.reports
    assert report.report is not None
    assert report.report.organization_name == "Mail.ru"


def test_every_report_part_is_parsed_and_cross_checked() -> None:
    """Two report parts give two reports; header fields that contradict the JSON are noted."""
    parsed = parse_report_email((CORPUS / "two-reports.eml").read_bytes())
    assert [a.content_type for a in parsed.email.attachments] == [
        "application/tlsrpt+json",
        "application/tlsrpt+gzip",
    ]
    first, second = parsed.reports
    assert first.report is not None
    assert second.report is not None
    assert first.report.fingerprint == second.report.fingerprint
    for report in (first, second):
        assert {note.code for note in report.notes} == {
            "tls_report.email.submitter_mismatch",
            "tls_report.email.domain_mismatch",
        }


@pytest.mark.parametrize(
    ("headers", "codes"),
    [
        pytest.param(
            "TLS-Report-Domain: Example.COM.\r\nTLS-Report-Submitter: sender.example\r\n",
            set(),
            id="agreeing-headers-normalised",
        ),
        pytest.param(
            "TLS-Report-Domain: example.com\r\nTLS-Report-Submitter: other.example\r\n",
            {"tls_report.email.submitter_mismatch"},
            id="submitter-differs",
        ),
        pytest.param(
            "TLS-Report-Domain: example.org\r\nTLS-Report-Submitter: sender.example\r\n",
            {"tls_report.email.domain_mismatch"},
            id="domain-differs",
        ),
        pytest.param("", set(), id="no-headers-nothing-to-compare"),
    ],
)
def test_crosscheck_compares_headers_with_the_report(headers: str, codes: set[str]) -> None:
    """TLS-Report-Submitter must be the contact-info domain (RFC 8460 §5.3); JSON wins (§5.6)."""
    found = extract_report_email(_message(("application/tlsrpt+json", REPORT), headers=headers))
    report = parse_tls_report(found.attachments[0].content).report
    assert report is not None
    assert {note.code for note in crosscheck(found, report)} == codes


@pytest.mark.parametrize(
    ("head", "accepted", "lenient"),
    [
        pytest.param("application/tlsrpt+json", True, False, id="tlsrpt-json"),
        pytest.param("Application/TLSRPT+GZIP", True, False, id="tlsrpt-gzip-upper-case"),
        pytest.param("application/json", True, True, id="json"),
        pytest.param("application/gzip", True, True, id="gzip"),
        pytest.param("application/x-gzip", True, True, id="x-gzip"),
        pytest.param('application/octet-stream; name="r.JSON.GZ"', True, True, id="named-gz"),
        pytest.param('text/plain; name="report.json"', True, True, id="named-json-text"),
        pytest.param("application/octet-stream", False, False, id="unnamed-octets"),
        pytest.param('application/pdf; name="report.pdf"', False, False, id="other-file"),
        pytest.param("text/plain", False, False, id="human-readable-part"),
    ],
)
def test_report_parts_are_recognised(head: str, accepted: bool, lenient: bool) -> None:
    """Report parts are found by media type, or by a .json/.json.gz name (RFC 8460 §5.3)."""
    found = extract_report_email(_message(("text/plain", b"hello"), (head, REPORT)))
    assert bool(found.attachments) is accepted
    assert ("tls_report.email.lenient_media_type" in _codes(found)) is lenient
    if not accepted:
        assert found.failure is not None
        assert found.failure.reason is EmailFailureReason.NO_REPORT


def test_quoted_upper_case_report_type_is_strict() -> None:
    """report-type is matched case-insensitively, quoted or not (RFC 2045 §5.1)."""
    found = extract_report_email(
        _message(("application/tlsrpt+json", REPORT), top='multipart/report; report-type="TLSRPT"')
    )
    assert "tls_report.email.not_multipart_report" not in _codes(found)


@pytest.mark.parametrize(
    ("limits", "reason", "code"),
    [
        pytest.param(
            EmailLimits(max_message_bytes=100), EmailFailureReason.TOO_LARGE, None, id="message"
        ),
        pytest.param(
            EmailLimits(max_attachment_bytes=100),
            EmailFailureReason.NO_REPORT,
            "tls_report.email.part_too_large",
            id="attachment",
        ),
        pytest.param(
            EmailLimits(max_parts=2),
            EmailFailureReason.NO_REPORT,
            "tls_report.email.too_many_parts",
            id="parts",
        ),
    ],
)
def test_message_bounds(limits: EmailLimits, reason: EmailFailureReason, code: str | None) -> None:
    """Oversized messages, parts, and part counts are refused or skipped, with a note."""
    found = extract_report_email(
        _message(("text/plain", b"x"), ("text/plain", b"y"), ("application/tlsrpt+json", REPORT)),
        limits,
    )
    assert found.failure is not None
    assert found.failure.reason is reason
    assert code is None or code in _codes(found)


def test_attachment_count_is_bounded() -> None:
    """Only the first ``max_attachments`` report parts are kept; the rest is noted."""
    message = _message(*[("application/tlsrpt+json", REPORT)] * 4)
    found = extract_report_email(message, EmailLimits(max_attachments=2))
    assert len(found.attachments) == 2
    assert "tls_report.email.too_many_parts" in _codes(found)


def test_report_part_with_a_broken_report_is_a_failed_parse() -> None:
    """A found part that is not a report gives a parse failure, not a lost message."""
    parsed = parse_report_email(_message(("application/tlsrpt+gzip", b"\x1f\x8bnot gzip")))
    (report,) = parsed.reports
    assert report.failure is not None
    assert report.failure.reason is FailureReason.BAD_GZIP


def test_undecodable_headers_are_kept_readable() -> None:
    """Broken encoded words and raw 8-bit bytes in headers never stop extraction."""
    message = _message(
        ("application/tlsrpt+json", REPORT),
        headers="TLS-Report-Domain: =?bogus-charset?q?ex=E4mple?=\r\n"
        "TLS-Report-Submitter: s\xe9nder.example\r\n",
    ).replace(b"\xc3\xa9", b"\xe9")
    found = extract_report_email(message)
    assert found.attachments
    assert found.report_domain is not None
    assert found.report_submitter is not None
    found.report_submitter.encode("utf-8")


def test_every_note_code_is_in_the_catalogue() -> None:
    """Message notes use only codes defined in the findings catalogue."""
    found = extract_report_email((CORPUS / "lenient-mixed.eml").read_bytes())
    assert all(note.code in catalogue() for note in found.notes)


@given(st.binary(max_size=600))
def test_extract_never_raises_on_bytes(raw: bytes) -> None:
    """Arbitrary bytes give a result with a failure or attachments, never an exception."""
    found = extract_report_email(raw)
    assert found.failure is not None or found.attachments


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=1500), st.binary(min_size=1, max_size=40))
def test_extract_never_raises_on_damaged_messages(offset: int, junk: bytes) -> None:
    """A real-shaped message with bytes overwritten anywhere still gives a result."""
    raw = (CORPUS / "google.eml").read_bytes()
    at = offset % len(raw)
    parsed = parse_report_email(raw[:at] + junk + raw[at + len(junk) :])
    assert parsed.email.failure is not None or parsed.email.attachments
    for report in parsed.reports:
        assert report.failure is None or report.failure.reason is not FailureReason.INTERNAL_ERROR


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"shared samples absent: {SAMPLES}")
@pytest.mark.parametrize(
    "path", sorted(SAMPLES.glob("*.eml")) if SAMPLES.is_dir() else [], ids=lambda p: p.name
)
def test_real_sample_message_parses(path: Path) -> None:
    """Every real report message in the shared samples yields parsed reports."""
    parsed = parse_report_email(path.read_bytes())
    assert parsed.reports
    assert all(report.report is not None for report in parsed.reports)
    assert parsed.email.report_domain
    assert parsed.email.report_submitter
