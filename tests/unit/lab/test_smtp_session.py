"""The pure pieces of the lab SMTP conversation: command splitting, paths, dot-unstuffing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.smtp_session import dot_unstuff, parse_path, split_command


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(b"EHLO client.test\r\n", ("EHLO", "client.test"), id="ehlo"),
        pytest.param(b"ehlo client.test\n", ("EHLO", "client.test"), id="lower-case-bare-lf"),
        pytest.param(b"STARTTLS\r\n", ("STARTTLS", ""), id="no-argument"),
        pytest.param(
            b"MAIL FROM:<a@b.test>  \r\n", ("MAIL", "FROM:<a@b.test>"), id="trailing-space"
        ),
        pytest.param(b"\r\n", ("", ""), id="empty"),
    ],
)
def test_split_command(line: bytes, expected: tuple[str, str]) -> None:
    """A command line splits into an upper-case verb and its stripped argument."""
    assert split_command(line) == expected


@pytest.mark.parametrize(
    ("argument", "keyword", "expected"),
    [
        pytest.param("FROM:<a@b.test>", "FROM", "a@b.test", id="angle-path"),
        pytest.param("from: <a@b.test> SIZE=100", "FROM", "a@b.test", id="space-and-params"),
        pytest.param("FROM:<>", "FROM", "", id="null-reverse-path"),
        pytest.param("TO:c@d.test NOTIFY=NEVER", "TO", "c@d.test", id="bare-path"),
        pytest.param("TO:<c@d.test", "TO", None, id="unclosed-angle"),
        pytest.param("FROM:<a@b.test>", "TO", None, id="wrong-keyword"),
        pytest.param("FROM:", "FROM", None, id="missing-path"),
        pytest.param("", "FROM", None, id="empty"),
    ],
)
def test_parse_path(argument: str, keyword: str, expected: str | None) -> None:
    """The address is taken from between angle brackets, or the first token; else None."""
    assert parse_path(argument, keyword) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(b"..leading\r\n", b".leading\r\n", id="stuffed"),
        pytest.param(b"plain\r\n", b"plain\r\n", id="plain"),
        pytest.param(b".\r\n", b"\r\n", id="lone-dot-unstuffed"),
    ],
)
def test_dot_unstuff(line: bytes, expected: bytes) -> None:
    """One leading dot is removed, as RFC 5321 §4.5.2 transparency requires."""
    assert dot_unstuff(line) == expected


@given(st.binary(max_size=600))
def test_split_command_never_raises(line: bytes) -> None:
    """Any bytes split into a verb and an argument without raising."""
    verb, argument = split_command(line)
    assert verb == verb.upper()
    assert argument == argument.strip()


@given(st.text(max_size=200), st.sampled_from(["FROM", "TO"]))
def test_parse_path_never_raises(argument: str, keyword: str) -> None:
    """Any argument yields an address without angle brackets, or None."""
    address = parse_path(argument, keyword)
    assert address is None or ">" not in address
