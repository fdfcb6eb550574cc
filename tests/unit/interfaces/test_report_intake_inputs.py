"""Reading what senders declare and what files hold: media types and file kinds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.interfaces.api.tlsrpt import media_type_problem
from mailshield.interfaces.cli.report_files import sniff


@pytest.mark.parametrize(
    ("content_type", "encoding", "accepted"),
    [
        pytest.param("application/tlsrpt+gzip", None, True, id="rfc-gzip"),
        pytest.param("application/tlsrpt+json", None, True, id="rfc-json"),
        pytest.param("application/tlsrpt+json; charset=utf-8", "gzip", True, id="params-encoding"),
        pytest.param(" APPLICATION/JSON ", None, True, id="case-and-space"),
        pytest.param("application/x-gzip", "identity", True, id="x-gzip"),
        pytest.param("text/plain", None, False, id="text"),
        pytest.param("", None, False, id="empty"),
        pytest.param(None, None, False, id="absent"),
        pytest.param("application/tlsrpt+json", "deflate", False, id="deflate"),
    ],
)
def test_media_types(content_type: str | None, encoding: str | None, accepted: bool) -> None:
    """RFC 8460 §5.4 types and the common variants pass; anything else is explained."""
    assert (media_type_problem(content_type, encoding) is None) is accepted


@given(st.none() | st.text(), st.none() | st.text())
def test_media_type_check_never_raises(content_type: str | None, encoding: str | None) -> None:
    """Any header values give an answer, never an exception."""
    problem = media_type_problem(content_type, encoding)
    assert problem is None or problem


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        pytest.param(b"\x1f\x8b\x08\x00", "report", id="gzip"),
        pytest.param(b"PK\x03\x04", "report", id="zip"),
        pytest.param(b'  {"organization-name"', "report", id="json"),
        pytest.param(b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n", "mbox", id="mbox"),
        pytest.param(b"Return-Path: <a@b>\r\n", "message", id="message"),
        pytest.param(b"# notes\n", "skip", id="other"),
    ],
)
def test_sniff(head: bytes, kind: str) -> None:
    """A file without a telling name is recognised by its first bytes."""
    assert sniff(head) == kind


@given(st.binary(max_size=300))
def test_sniff_never_raises(head: bytes) -> None:
    """Any first bytes give one of the four kinds."""
    assert sniff(head) in {"report", "mbox", "message", "skip"}
