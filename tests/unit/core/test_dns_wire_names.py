"""DNS names on the wire: read with bounded decompression, written from text, as in dnspython."""

import contextlib
import re

import dns.exception
import dns.name
import dns.wire
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.dns_wire_codes import WireError
from mailshield.core.dns_wire_names import NameCache, name_from_text, read_name

HEADER = bytes(12)


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        pytest.param("example.com", b"\x07example\x03com\x00", id="relative-is-absolute"),
        pytest.param("Example.COM.", b"\x07Example\x03COM\x00", id="final-dot-case-kept"),
        pytest.param("", b"\x00", id="empty-is-root"),
        pytest.param(".", b"\x00", id="dot-is-root"),
        pytest.param("@", b"\x00", id="at-is-root"),
        pytest.param("_dmarc.a-b.test", b"\x06_dmarc\x03a-b\x04test\x00", id="underscore"),
        pytest.param(r"a\.b.test", b"\x03a.b\x04test\x00", id="escaped-dot"),
        pytest.param(r"\065\255.test", b"\x02A\xff\x04test\x00", id="decimal-escapes"),
        pytest.param(r"a\\b.", b"\x03a\\b\x00", id="escaped-backslash"),
    ],
)
def test_name_from_text(text: str, wire: bytes) -> None:
    """Presentation text becomes length-prefixed labels ending in the root label."""
    assert name_from_text(text) == wire


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a..b", "A DNS label is empty.", id="empty-label"),
        pytest.param(".a", "A DNS label is empty.", id="leading-dot"),
        pytest.param("a" * 64, "A DNS label is > 63 octets long.", id="long-label"),
        pytest.param(".".join(["a" * 63] * 4), "A DNS name is > 255 octets long.", id="long-name"),
        pytest.param(
            "a\\", "An escaped code in a text format of DNS name is invalid.", id="escape-end"
        ),
        pytest.param(
            "a\\25", "An escaped code in a text format of DNS name is invalid.", id="short"
        ),
        pytest.param(
            "a\\256", "An escaped code in a text format of DNS name is invalid.", id="256"
        ),
        pytest.param(
            "bücher.test", "name text must be ASCII (convert it with IDNA first)", id="idn"
        ),
    ],
)
def test_name_from_text_refuses(text: str, message: str) -> None:
    """Text that is no name is refused with dnspython's words for the same fault."""
    with pytest.raises(WireError, match=re.escape(message)):
        name_from_text(text)


ASCII_TEXT = st.lists(
    st.sampled_from([*'abcXYZ09-_.\\*@ "();$', "\\0", "\\1", "\\25", "\\255", "\\256", "a" * 30]),
    max_size=40,
).map("".join)


@given(st.one_of(ASCII_TEXT, st.text(st.characters(max_codepoint=127), max_size=300)))
def test_name_from_text_agrees_with_dnspython(text: str) -> None:
    """For any ASCII text, the wire form (or the refusal and its words) is dnspython's."""
    try:
        expected: bytes | str | None = dns.name.from_text(text).to_wire()
    except dns.exception.DNSException as exc:
        expected = str(exc)
    try:
        got: bytes | str = name_from_text(text)
    except WireError as exc:
        got = str(exc)
    assert got == expected


@pytest.mark.parametrize(
    ("data", "pos", "text", "after"),
    [
        pytest.param(HEADER + b"\x07Example\x03com\x00", 12, "example.com", 25, id="plain"),
        pytest.param(HEADER + b"\x00", 12, "", 13, id="root"),
        pytest.param(
            HEADER + b"\x07example\x03com\x00\x03mx1\xc0\x0c", 25, "mx1.example.com", 31, id="ptr"
        ),
        pytest.param(
            HEADER + b"\x07example\x03com\x00\xc0\x14", 25, "com", 27, id="pointer-into-a-name"
        ),
        pytest.param(
            HEADER + b"\x03a.b\x01 \x01\xff\x00", 12, "a\\.b.\\032.\\255", 21, id="escapes"
        ),
        pytest.param(
            HEADER + b'\x08"().;@$\\\x00', 12, '\\"\\(\\)\\.\\;\\@\\$\\\\', 22, id="specials"
        ),
    ],
)
def test_read_name(data: bytes, pos: int, text: str, after: int) -> None:
    """A name reads as lower-case escaped text, with the offset after its first part."""
    assert read_name(data, pos, len(data)) == (text, after)


@pytest.mark.parametrize(
    ("data", "pos"),
    [
        pytest.param(HEADER + b"\xc0\x0c", 12, id="pointer-to-itself"),
        pytest.param(HEADER + b"\x01a\xc0\x0c", 12, id="loop-through-a-label"),
        pytest.param(HEADER + b"\xc0\x0e\x00", 12, id="forward-pointer"),
        pytest.param(HEADER + b"\x01a\x00\xc0\x0f\xc0\x0f", 15, id="pointer-chain-loop"),
        pytest.param(HEADER + b"\x41" + b"a" * 65 + b"\x00", 12, id="label-type-0x40"),
        pytest.param(HEADER + b"\x05abc", 12, id="label-past-end"),
        pytest.param(HEADER + b"\x01a", 12, id="no-root-label"),
        pytest.param(HEADER + b"\xc0", 12, id="pointer-cut-short"),
        pytest.param(HEADER + (b"\x3f" + b"a" * 63) * 4 + b"\x00", 12, id="256-octets"),
        pytest.param(HEADER + b"\x04ab\xc0\x0c\x00", 14, id="target-runs-over-the-pointer"),
    ],
)
def test_read_name_refuses(data: bytes, pos: int) -> None:
    """Loops, forward pointers, unknown label types and overruns are WireError, never a hang."""
    with pytest.raises(WireError):
        read_name(data, pos, len(data))


def test_pointer_chain_limit() -> None:
    """Seventeen pointers in one name are too many, sixteen are fine (dnspython's bound)."""
    data = HEADER + b"\x00\xc0\x0c" + b"".join(bytes((0xC0, 13 + 2 * i)) for i in range(16))
    assert read_name(data, 13 + 2 * 15, len(data))[0] == ""
    with pytest.raises(WireError):
        read_name(data, 13 + 2 * 16, len(data))


def test_cached_names_read_the_same() -> None:
    """Names read with the per-message cache read exactly as without it."""
    data = HEADER + b"\x07example\x03com\x00\x03mx1\xc0\x0c\x03mx2\xc0\x19\xc0\x1f\xc0\x14"
    cache: NameCache = {}
    for pos in (12, 25, 31, 37, 39):
        assert read_name(data, pos, len(data), cache) == read_name(data, pos, len(data))


def _dnspython(data: bytes, pos: int) -> tuple[str, int] | None:
    parser = dns.wire.Parser(data, pos)
    try:
        name = parser.get_name(None, True)
    except dns.exception.DNSException:
        return None
    text = name.to_text(omit_final_dot=True).lower()
    return ("" if text == "." else text), parser.current


NAME_OCTETS = st.lists(
    st.one_of(
        st.sampled_from([0, 1, 2, 3, 0x3F, 0x40, 0xC0, 0xC1, 12, 14, 17, 0x41, 0x2E]),
        st.integers(0, 255),
    ),
    max_size=60,
).map(lambda tail: HEADER + bytes(tail))


@given(NAME_OCTETS, st.data())
def test_read_name_agrees_with_dnspython(data: bytes, draw: st.DataObject) -> None:
    """At any offset of any octets, a name reads as dnspython reads it, or both refuse it."""
    pos = draw.draw(st.integers(12, len(data)))
    expected = _dnspython(data, pos)
    cache: NameCache = {}
    for earlier in draw.draw(st.lists(st.integers(12, len(data)), max_size=3)):
        with contextlib.suppress(WireError):
            read_name(data, earlier, len(data), cache)
    try:
        got: tuple[str, int] | None = read_name(data, pos, len(data), cache)
    except WireError:
        got = None
    assert got == expected


@given(st.lists(st.binary(min_size=1, max_size=63), max_size=3))
def test_name_text_reads_back_as_the_same_name(labels: list[bytes]) -> None:
    """The text of any name turns back into that name's wire form, in lower case (the client
    asks a CNAME target again from its text)."""
    wire = b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"
    text, _ = read_name(HEADER + wire, 12, len(HEADER) + len(wire))
    assert name_from_text(text) == b"".join(bytes((len(x),)) + x.lower() for x in labels) + b"\x00"
