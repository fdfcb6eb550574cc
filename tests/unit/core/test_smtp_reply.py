"""SMTP reply reading and EHLO parsing, without I/O."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.smtp_reply import (
    EhloReply,
    ReplyError,
    ReplyReader,
    SmtpReply,
    parse_ehlo,
    render_reply,
)


def read_all(data: bytes, **bounds: int) -> list[SmtpReply | ReplyError]:
    """Every reply (or the error) the reader yields for ``data`` fed in one go."""
    reader = ReplyReader(**bounds)
    reader.feed(data)
    out: list[SmtpReply | ReplyError] = []
    while (item := reader.next_reply()) is not None:
        out.append(item)
        if isinstance(item, ReplyError):
            break
    return out


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        pytest.param(
            b"220 mx.example ESMTP\r\n", [SmtpReply(220, ("mx.example ESMTP",))], id="one"
        ),
        pytest.param(
            b"250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
            [SmtpReply(250, ("mx.example", "PIPELINING", "STARTTLS"))],
            id="multi-line",
        ),
        pytest.param(b"250\r\n", [SmtpReply(250, ("",))], id="bare-code"),
        pytest.param(b"221 bye\n", [SmtpReply(221, ("bye",))], id="bare-lf"),
        pytest.param(
            b"220 hi\r\n250 ok\r\n",
            [SmtpReply(220, ("hi",)), SmtpReply(250, ("ok",))],
            id="two-replies",
        ),
        pytest.param(b"250-partial\r\n250-still", [], id="incomplete-needs-data"),
        pytest.param(b"220 caf\xc3\xa9\r\n", [SmtpReply(220, ("café",))], id="utf8-text"),
    ],
)
def test_reader_yields_complete_replies(
    wire: bytes, expected: list[SmtpReply | ReplyError]
) -> None:
    """Complete replies come out whole; an unfinished one waits for more bytes."""
    assert read_all(wire) == expected


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        # not a reply code
        pytest.param(b"HTTP/1.1 400 Bad\r\n", "malformed reply line", id="not-smtp"),
        # first digit must be 2-5 (RFC 5321 §4.2)
        pytest.param(b"120 hi\r\n", "malformed reply line", id="bad-first-digit"),
        # separator must be SP or "-"
        pytest.param(b"250_x\r\n", "malformed reply line", id="bad-separator"),
        # every line of one reply has the same code (RFC 5321 §4.2.1)
        pytest.param(b"250-a\r\n220 b\r\n", "reply code changed", id="code-changes"),
        # a line over the bound, with or without its LF yet
        pytest.param(b"220 " + b"x" * 100 + b"\r\n", "reply line longer", id="long-line"),
        pytest.param(b"220 " + b"x" * 100, "reply line longer", id="long-line-unfinished"),
        # a reply that never ends
        pytest.param(b"220-x\r\n" * 11, "reply longer than 10 lines", id="endless"),
    ],
)
def test_reader_reports_violations(wire: bytes, reason: str) -> None:
    """Broken syntax or an exceeded bound ends in one ReplyError that names the problem."""
    out = read_all(wire, max_line_length=64, max_lines=10)
    assert isinstance(out[-1], ReplyError)
    assert out[-1].reason.startswith(reason)


def test_reader_errors_are_sticky() -> None:
    """After an error, more bytes do not bring the reader back."""
    reader = ReplyReader()
    reader.feed(b"garbage\r\n")
    first = reader.next_reply()
    reader.feed(b"250 ok\r\n")
    assert isinstance(first, ReplyError)
    assert reader.next_reply() == first


def test_reader_joins_bytes_fed_piecewise() -> None:
    """A reply split across reads at any byte comes out the same."""
    reader = ReplyReader()
    replies = []
    for byte in b"250-a\r\n250 b\r\n":
        reader.feed(bytes([byte]))
        if (reply := reader.next_reply()) is not None:
            replies.append(reply)
    assert replies == [SmtpReply(250, ("a", "b"))]


def test_discard_buffered_drops_unread_bytes() -> None:
    """Bytes after a reply can be dropped, as after the 220 to STARTTLS (RFC 3207 §4.2)."""
    reader = ReplyReader()
    reader.feed(b"220 go ahead\r\n250 injected\r\n")
    assert reader.next_reply() == SmtpReply(220, ("go ahead",))
    assert reader.discard_buffered() == b"250 injected\r\n"
    assert reader.next_reply() is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        pytest.param(
            SmtpReply(250, ("mx.example Hello", "PIPELINING", "SIZE 10240000", "STARTTLS")),
            EhloReply(
                "mx.example",
                ("PIPELINING", "SIZE", "STARTTLS"),
                (("PIPELINING", ()), ("SIZE", ("10240000",)), ("STARTTLS", ())),
                (),
            ),
            id="typical",
        ),
        pytest.param(
            SmtpReply(250, ("mx.example", "starttls", "8bitmime")),
            EhloReply(
                "mx.example", ("STARTTLS", "8BITMIME"), (("STARTTLS", ()), ("8BITMIME", ())), ()
            ),
            id="keywords-upper-cased",
        ),
        pytest.param(
            SmtpReply(250, ("mx.example",)),
            EhloReply("mx.example", (), (), ()),
            id="no-extensions",
        ),
        pytest.param(
            SmtpReply(250, ("mx.example", "AUTH=LOGIN PLAIN", "-BAD", "", "STARTTLS", "STARTTLS")),
            EhloReply(
                "mx.example",
                ("STARTTLS",),
                (("STARTTLS", ()), ("STARTTLS", ())),
                ("AUTH=LOGIN PLAIN", "-BAD", ""),
            ),
            id="malformed-lines-kept-apart",
        ),
        pytest.param(SmtpReply(502, ("not implemented",)), EhloReply("", (), (), ()), id="502"),
    ],
)
def test_parse_ehlo(reply: SmtpReply, expected: EhloReply) -> None:
    """EHLO keywords are read from every continuation line (RFC 5321 §4.1.1.1)."""
    assert parse_ehlo(reply) == expected


def test_offers_is_case_insensitive() -> None:
    """``offers`` finds a keyword whatever case the caller uses."""
    assert parse_ehlo(SmtpReply(250, ("mx", "STARTTLS"))).offers("starttls")


@given(st.lists(st.binary(max_size=40), max_size=20))
def test_reader_never_raises(chunks: list[bytes]) -> None:
    """For any bytes in any chunking, the reader yields replies, errors or None, never raises."""
    reader = ReplyReader(max_line_length=64, max_lines=5)
    for chunk in chunks:
        reader.feed(chunk)
        while isinstance(reader.next_reply(), SmtpReply):
            pass


TEXT_LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)


@given(st.integers(200, 599), st.lists(TEXT_LINE, min_size=1, max_size=5))
def test_render_then_read_round_trips(code: int, lines: list[str]) -> None:
    """A rendered reply reads back with the same code and line texts (trailing spaces aside)."""
    [reply] = read_all(render_reply(code, lines))
    assert isinstance(reply, SmtpReply)
    assert reply.code == code
    assert [line.rstrip() for line in reply.lines[-1:]] == [lines[-1].rstrip()]
    assert list(reply.lines[:-1]) == lines[:-1]


@given(st.integers(200, 599), st.lists(st.text(max_size=40), max_size=8))
def test_parse_ehlo_never_raises(code: int, lines: list[str]) -> None:
    """Any reply yields an EhloReply whose keywords are upper-case."""
    parsed = parse_ehlo(SmtpReply(code, tuple(lines)))
    assert all(keyword == keyword.upper() for keyword in parsed.keywords)
