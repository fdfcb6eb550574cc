"""DKIM verdicts on report messages, with keys fetched from the lab DNS (never the host's)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.receivers.mail import DkimKey, report_message, sign

from mailshield.core.observations import DnsAnswer, DnsOutcome
from mailshield.lab.endpoint import free_port
from mailshield.probes.dns import DnsClient
from mailshield.services.ports import DnsLookup
from mailshield.services.report_dkim import DkimStatus, ReportDkim

Case = Callable[[DkimKey], bytes]


def _signed(key: DkimKey) -> bytes:
    return sign(report_message(), key)


def _tampered(key: DkimKey) -> bytes:
    return sign(report_message(), key) + b"appended by a gateway\r\n"


def _with_length_tag(key: DkimKey) -> bytes:
    return sign(report_message(), key, length=True)


def _unknown_selector(key: DkimKey) -> bytes:
    return sign(report_message(), key, selector="missing")


def _report_headers_unsigned(key: DkimKey) -> bytes:
    headers = (b"from", b"to", b"subject", b"date", b"message-id")
    return sign(report_message(), key, headers=headers)


def _other_submitter(key: DkimKey) -> bytes:
    return sign(report_message(submitter="unrelated.example"), key)


def _second_signature_valid(key: DkimKey) -> bytes:
    return sign(sign(report_message(), key), key, selector="missing")


@pytest.mark.parametrize(
    ("build", "status", "aligned", "notes", "detail"),
    [
        pytest.param(_signed, DkimStatus.PASS, True, (), "verified", id="aligned-pass"),
        pytest.param(_tampered, DkimStatus.FAIL, True, (), "body hash", id="body-changed"),
        pytest.param(_with_length_tag, DkimStatus.FAIL, True, (), "l=", id="length-tag"),
        pytest.param(_unknown_selector, DkimStatus.PERMERROR, True, (), "no DKIM key", id="no-key"),
        pytest.param(
            _report_headers_unsigned,
            DkimStatus.PASS,
            True,
            ("report_headers_unsigned",),
            "verified",
            id="report-headers-not-signed",
        ),
        pytest.param(
            _other_submitter, DkimStatus.PASS, False, (), "verified", id="not-aligned-submitter"
        ),
        pytest.param(
            _second_signature_valid, DkimStatus.PASS, True, (), "verified", id="second-signature"
        ),
        pytest.param(lambda _: report_message(), DkimStatus.NONE, None, (), "no DKIM", id="none"),
    ],
)
async def test_verdicts(
    dns_factory: Callable[[], DnsLookup],
    dkim_key: DkimKey,
    build: Case,
    status: DkimStatus,
    aligned: bool | None,
    notes: tuple[str, ...],
    detail: str,
) -> None:
    """Each signing situation gets its RFC 6376 / RFC 8460 §5.3 verdict, alignment and notes."""
    verdict = await ReportDkim(dns_factory).verify(build(dkim_key))
    assert verdict.status is status, verdict
    assert verdict.aligned is aligned
    assert verdict.notes == notes
    assert detail in verdict.detail
    if status is not DkimStatus.NONE:
        assert verdict.domain == "sender.example"


async def test_key_limited_to_email_still_verifies_with_a_note(
    dns_factory: Callable[[], DnsLookup], email_only_key: DkimKey
) -> None:
    """A key with ``s=email`` verifies; the verdict notes that it excludes TLS-RPT."""
    message = sign(report_message(), email_only_key, selector="emailonly")
    verdict = await ReportDkim(dns_factory).verify(message)
    assert verdict.status is DkimStatus.PASS
    assert verdict.notes == ("key_service_excludes_tlsrpt",)


async def test_unreachable_resolver_is_a_temporary_error(dkim_key: DkimKey) -> None:
    """When the key cannot be fetched the verdict is ``temperror``, not a failure."""
    port = free_port("127.0.14.54")
    verifier = ReportDkim(lambda: DnsClient([f"127.0.14.54:{port}"], timeout=0.5, tries=1))
    verdict = await verifier.verify(sign(report_message(), dkim_key))
    assert verdict.status is DkimStatus.TEMPERROR
    assert "tlsrpt2024._domainkey.sender.example" in verdict.detail


async def test_malformed_signature_is_a_permanent_error(
    dns_factory: Callable[[], DnsLookup],
) -> None:
    """A DKIM-Signature that is not a tag list is ``permerror``."""
    message = b"DKIM-Signature: this is not; a = = tag list\r\n" + report_message()
    verdict = await ReportDkim(dns_factory).verify(message)
    assert verdict.status is DkimStatus.PERMERROR


class _NoKeys:
    """A resolver that knows no names: verification runs without any network."""

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        return DnsAnswer(name, rdtype, DnsOutcome.NXDOMAIN)


_HEADERS = st.sampled_from(
    [b"DKIM-Signature: ", b"TLS-Report-Submitter: ", b"From: ", b"Subject: ", b" ", b"\t"]
)
_LINES = st.lists(st.tuples(_HEADERS, st.binary(max_size=80)), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_LINES, body=st.binary(max_size=200))
def test_verify_never_raises(lines: list[tuple[bytes, bytes]], body: bytes) -> None:
    """For any header block and body, verification returns a verdict instead of raising."""
    raw = b"".join(name + value + b"\r\n" for name, value in lines) + b"\r\n" + body
    verdict = asyncio.run(ReportDkim(_NoKeys).verify(raw))
    assert verdict.status in set(DkimStatus)
