"""The pure parts of the mail intake: a message's verdict from its parts' dispositions, the SMTP
reply for each verdict, and the report mailboxes read from ``tlsrpt_rua``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.interfaces.receivers.smtp import Mailboxes, reply_for
from mailshield.services.ingest import Disposition, IngestOutcome, MessageOutcome
from mailshield.services.report_mail import MailVerdict, verdict_of

D = Disposition


def message(*dispositions: Disposition) -> MessageOutcome:
    return MessageOutcome(tuple(IngestOutcome(d, reason=f"r-{d.value}") for d in dispositions))


@pytest.mark.parametrize(
    ("dispositions", "verdict"),
    [
        pytest.param((D.STORED,), MailVerdict.ACCEPTED, id="stored"),
        pytest.param((D.DUPLICATE,), MailVerdict.ACCEPTED, id="copy"),
        pytest.param((D.STORED, D.QUARANTINED), MailVerdict.ACCEPTED, id="one-part-unreadable"),
        pytest.param((D.STORED, D.REFUSED), MailVerdict.ACCEPTED, id="one-part-refused"),
        pytest.param((D.QUARANTINED,), MailVerdict.QUARANTINED, id="unreadable"),
        pytest.param((D.QUARANTINED, D.REFUSED), MailVerdict.QUARANTINED, id="unreadable-refused"),
        pytest.param((D.REFUSED,), MailVerdict.REFUSED, id="not-served"),
        pytest.param((D.TOO_LARGE,), MailVerdict.TOO_LARGE, id="too-large"),
        pytest.param((D.REFUSED, D.TOO_LARGE), MailVerdict.REFUSED, id="refused-and-too-large"),
        pytest.param((D.FAILED,), MailVerdict.RETRY, id="storage-failed"),
        pytest.param((D.STORED, D.FAILED), MailVerdict.RETRY, id="one-part-failed"),
        pytest.param((), MailVerdict.RETRY, id="no-outcome"),
    ],
)
def test_verdict_of_a_message(dispositions: tuple[Disposition, ...], verdict: MailVerdict) -> None:
    """A message is accepted when a report was kept and nothing failed; any failed part makes
    the sender retry; otherwise quarantine, then refusal."""
    assert verdict_of(message(*dispositions))[0] is verdict


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        (MailVerdict.ACCEPTED, "250 2.0.0"),
        (MailVerdict.QUARANTINED, "250 2.0.0"),
        (MailVerdict.REFUSED, "550 5.7.1"),
        (MailVerdict.TOO_LARGE, "552 5.3.4"),
        (MailVerdict.RETRY, "451 4.3.0"),
    ],
    ids=lambda value: str(value),
)
def test_smtp_reply_per_verdict(verdict: MailVerdict, code: str) -> None:
    """Durable verdicts are 250, refusals 5xx, storage trouble 4xx (RFC 5321 §4.2.1)."""
    assert reply_for(verdict).startswith(code + " ")
    assert verdict.durable == code.startswith("250")


@pytest.mark.parametrize(
    ("rua", "expected"),
    [
        pytest.param("mailto:tlsrpt@r.example", {("tlsrpt", "r.example")}, id="one"),
        pytest.param(
            "mailto:a@r.example, https://r.example/tlsrpt,MAILTO:B@R.Example.",
            {("a", "r.example"), ("b", "r.example")},
            id="mixed-schemes-case-dot",
        ),
        pytest.param("mailto:tls%2Drpt@r.example", {("tls-rpt", "r.example")}, id="pct-encoded"),
        pytest.param("mailto:x@r.example?subject=hi", {("x", "r.example")}, id="query-dropped"),
        pytest.param("https://r.example/tlsrpt", set(), id="https-only"),
        pytest.param("", set(), id="empty"),
        pytest.param("mailto:no-at-sign", set(), id="no-address"),
    ],
)
def test_mailboxes_from_rua(rua: str, expected: set[tuple[str, str]]) -> None:
    """The mailto: URIs of an RFC 8460 §3 ``rua`` list become the accepted mailboxes."""
    assert Mailboxes.from_rua(rua).addresses == expected


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("tlsrpt@r.example", True),
        ("<TLSRPT@R.EXAMPLE>", True),
        ("tlsrpt+example.com@r.example", True),
        ("tlsrpt@r.example.", True),
        ("tlsrpt2@r.example", False),
        ("tlsrpt@other.example", False),
        ("r.example", False),
    ],
)
def test_mailbox_matching(address: str, accepted: bool) -> None:
    """An address matches case-insensitively, with or without a +tag subaddress."""
    assert Mailboxes.from_rua("mailto:tlsrpt@r.example").accepts(address) is accepted


def test_no_configured_mailbox_accepts_everyone() -> None:
    """Without a mailto: address every recipient is accepted (the MX in front decides)."""
    assert Mailboxes.from_rua("https://r.example/").accepts("anyone@anywhere.example")


@given(rua=st.text(), address=st.text())
def test_mailboxes_never_raise(rua: str, address: str) -> None:
    """Any ``rua`` text and any recipient give an answer, never an exception."""
    assert isinstance(Mailboxes.from_rua(rua).accepts(address), bool)
