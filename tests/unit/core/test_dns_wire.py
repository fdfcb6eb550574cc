"""The DNS message codec: queries byte for byte as dnspython writes them, responses read as
dnspython reads them (checked against it on random messages), and only WireError on bad input."""

from __future__ import annotations

import contextlib
import struct
from typing import Any, cast

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.NS import NS
from dns.rdtypes.ANY.PTR import PTR
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.ANY.TLSA import TLSA
from dns.rdtypes.ANY.TXT import TXT
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailshield.core.dns_wire import (
    ExtendedError,
    Question,
    WireError,
    WireMessage,
    decode_message,
    encode_query,
    is_response_to,
    name_from_text,
    wire_name_text,
    with_id,
)
from mailshield.core.dns_wire_codes import ede_name, rcode_text
from mailshield.core.observations import DnsRecord, MxRecord, TlsaRecord

IN = dns.rdataclass.IN
CH = dns.rdataclass.CH
RRSIG_TYPES = (dns.rdatatype.RRSIG, dns.rdatatype.SIG)


def dnspython_query(name: str, rdtype: str, *, cd: bool = False) -> dns.message.Message:
    """The query the DNS probe sent while it used dnspython."""
    query = dns.message.make_query(name, rdtype, use_edns=0, want_dnssec=True, payload=1232)
    query.flags |= dns.flags.AD
    if cd:
        query.flags |= dns.flags.CD
    return query


@pytest.mark.parametrize(
    ("name", "rdtype", "cd"),
    [
        pytest.param("example.com", "MX", False, id="mx"),
        pytest.param("_dmarc.Example.COM.", "TXT", False, id="txt-case-kept"),
        pytest.param("_25._tcp.mx.example", "TLSA", True, id="tlsa-checking-disabled"),
        pytest.param(".", "DNSKEY", False, id="root"),
    ],
)
def test_encode_query_is_dnspythons_query(name: str, rdtype: str, cd: bool) -> None:
    """The query is byte for byte the one dnspython built: RD, AD, EDNS(0) 1232 with DO."""
    expected = dnspython_query(name, rdtype, cd=cd)
    qtype = dns.rdatatype.from_text(rdtype)
    wire = encode_query(name_from_text(name), qtype, query_id=expected.id, checking_disabled=cd)
    assert wire == expected.to_wire()


def test_with_id_replaces_only_the_id() -> None:
    """Patching the ID keeps every other octet."""
    wire = encode_query(name_from_text("a.test"), 1, query_id=1)
    patched = with_id(wire, 0xBEEF)
    assert patched[:2] == b"\xbe\xef"
    assert patched[2:] == wire[2:]


def test_wire_name_text() -> None:
    """A wire name reads as the text responses use for it; trailing octets are refused."""
    assert wire_name_text(name_from_text("MX.Example.test")) == "mx.example.test"
    with pytest.raises(WireError):
        wire_name_text(b"\x01a\x00\x00")


def response_to(name: str, rdtype: str, *lines: str, **edits: object) -> dns.message.Message:
    """A dnspython response with answer RRsets written as zone-file lines, one RRset each."""
    response = dns.message.make_response(dnspython_query(name, rdtype))
    for line in lines:
        owner, ttl, klass, kind, rdata = line.split(None, 4)
        response.answer.append(dns.rrset.from_text(owner, int(ttl), klass, kind, rdata))
    for key, value in edits.items():
        setattr(response, key, value)
    return response


def decoded(message: dns.message.Message) -> WireMessage:
    return decode_message(message.to_wire())


def test_header_and_question() -> None:
    """ID, flags, opcode and the question come from the header and question section."""
    message = decoded(response_to("Example.com", "MX"))
    assert message.flags & dns.flags.QR
    assert message.opcode == 0
    assert message.question == (Question("example.com", 15, 1),)
    assert message.edns_flags == 0  # an OPT record without flags


@pytest.mark.parametrize(
    ("lines", "owner", "rdtype", "values"),
    [
        pytest.param(
            ["a.test. 60 IN A 192.0.2.1", "a.test. 60 IN A 192.0.2.2", "A.TEST. 60 IN A 192.0.2.1"],
            "a.test",
            1,
            ("192.0.2.1", "192.0.2.2"),
            id="duplicates-dropped-order-kept",
        ),
        pytest.param(
            ["a.test. 60 IN MX 10 MX.a.test.", "a.test. 60 IN MX 10 mx.A.test."],
            "a.test",
            15,
            (MxRecord(10, "mx.a.test"),),
            id="names-compare-without-case",
        ),
        pytest.param(
            ['a.test. 60 IN TXT "ab"', 'a.test. 60 IN TXT "a" "b"', 'a.test. 60 IN TXT "ab"'],
            "a.test",
            16,
            (b"ab", b"ab"),
            id="txt-split-differently-kept",
        ),
        pytest.param(
            ["a.test. 60 IN CNAME one.test.", "a.test. 60 IN CNAME two.test."],
            "a.test",
            5,
            ("two.test",),
            id="singleton-last-wins",
        ),
        pytest.param(["a.test. 60 CH TXT x"], "a.test", 16, None, id="other-class-ignored"),
        pytest.param(["b.test. 60 IN A 192.0.2.1"], "a.test", 1, None, id="other-owner"),
        pytest.param(
            ["a.test. 60 IN TYPE65280 \\# 2 abcd"],
            "a.test",
            65280,
            ("\\# 2 abcd",),
            id="other-type-generic",
        ),
        pytest.param(
            ["a.test. 60 IN RRSIG A 8 2 60 20300101000000 20200101000000 1 a.test. AAAA"],
            "a.test",
            46,
            None,
            id="signatures-never-match",
        ),
    ],
)
def test_rrset(
    lines: list[str], owner: str, rdtype: int, values: tuple[DnsRecord, ...] | None
) -> None:
    """Answer records group into RRsets as dnspython groups them."""
    assert decoded(response_to("a.test", "A", *lines)).rrset(owner, rdtype) == values


def record(name: bytes, rdtype: int, rdata: bytes, rdclass: int = 1, ttl: int = 0) -> bytes:
    return name + struct.pack("!HHIH", rdtype, rdclass, ttl, len(rdata)) + rdata


def message(*sections: list[bytes], flags: int = 0x8180) -> bytes:
    """A response to ``a.test``/A with the given answer, authority and additional records."""
    counts = [len(section) for section in sections] + [0] * (3 - len(sections))
    header = struct.pack("!HHHHHH", 7, flags, 1, *counts)
    return header + b"\x01a\x04test\x00\x00\x01\x00\x01" + b"".join(b"".join(s) for s in sections)


OPT = record(b"\x00", 41, b"", 1232, 0x8000)


def test_extended_rcode_and_errors() -> None:
    """The OPT record gives the high rcode bits and the extended DNS errors, NUL-ended text
    included (RFC 6891 §6.1.3, RFC 8914 §2)."""
    options = b"\x00\x0f\x00\x09\x00\x06bad sig" + b"\x00\x0f\x00\x03\x00\x16\x00"
    data = message([], [], [record(b"\x00", 41, options, 1232, 1 << 24)])
    got = decode_message(data)
    assert got.rcode == 16 == dns.message.from_wire(data).rcode()
    assert got.extended_errors == (ExtendedError(6, "bad sig"), ExtendedError(22, ""))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00" * 11, id="short-header"),
        pytest.param(message()[:-1], id="question-cut"),
        pytest.param(message() + b"\x00", id="trailing-octet"),
        pytest.param(message([record(b"\xc0\x0c", 1, b"\x01\x02\x03\x04")])[:-1], id="rdata-cut"),
        pytest.param(message([record(b"\xc0\x0c", 1, b"\x01\x02\x03")]), id="bad-a-in-answer"),
        pytest.param(message([record(b"\xc0\x0c", 16, b"")]), id="empty-txt-in-answer"),
        pytest.param(message([record(b"\xc0\x30", 1, b"\x01\x02\x03\x04")]), id="forward-pointer"),
        pytest.param(message([record(b"\xc0\x1c", 1, b"\x01\x02\x03\x04")]), id="pointer-loop"),
        pytest.param(message([OPT]), id="opt-in-answer"),
        pytest.param(message([], [], [OPT, OPT]), id="two-opt"),
        pytest.param(message([], [], [record(b"\x01a\x00", 41, b"")]), id="opt-not-root"),
        pytest.param(message([], [], [record(b"\x00", 250, b"")]), id="tsig"),
        pytest.param(
            message([], [], [record(b"\x00", 41, b"\x00\x0f\x00\x01\x00")]), id="ede-short"
        ),
        pytest.param(
            message([], [], [record(b"\x00", 41, b"\x00\x0f\x00\x03\x00\x06\xff")]), id="ede-utf8"
        ),
        pytest.param(
            message([], [], [record(b"\x00", 41, b"\x00\x0f\x00\x09\x00")]), id="option-cut"
        ),
        pytest.param(message([], [], [record(b"\x00", 41, b"\x00\x0f")]), id="option-header-cut"),
    ],
)
def test_malformed_messages_are_wire_errors(data: bytes) -> None:
    """Every malformed message is refused with WireError, as dnspython refuses it."""
    with pytest.raises(WireError):
        decode_message(data)
    with pytest.raises((dns.exception.DNSException, ValueError)):
        dns.message.from_wire(data)


def test_records_outside_the_answer_are_only_framed() -> None:
    """The authority section gives its types; its record data is not decoded."""
    soa = record(b"\xc0\x0c", 6, b"\x00\x00" + bytes(20))
    assert decode_message(message([], [soa])).authority_types == frozenset({6})


QUESTION = Question("a.test", 1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(message(), True, id="answer"),
        pytest.param(message().replace(b"\x01a\x04", b"\x01A\x04"), True, id="question-case"),
        pytest.param(message(flags=0x0100), False, id="not-a-response"),
        pytest.param(b"\x00\x08" + message()[2:], False, id="other-id"),
        pytest.param(message(flags=0x8980), False, id="other-opcode"),
        pytest.param(message().replace(b"\x00\x01\x00\x01", b"\x00\x1c\x00\x01"), False, id="type"),
        pytest.param(message().replace(b"\x01a\x04", b"\x01b\x04"), False, id="other-name"),
        pytest.param(struct.pack("!HHHHHH", 7, 0x8182, 0, 0, 0, 0), True, id="bare-servfail"),
        pytest.param(struct.pack("!HHHHHH", 7, 0x8185, 0, 0, 0, 0), True, id="bare-refused"),
        pytest.param(struct.pack("!HHHHHH", 7, 0x8180, 0, 0, 0, 0), False, id="bare-noerror"),
        pytest.param(
            struct.pack("!HHHHHH", 7, 0x8180, 2, 0, 0, 0)
            + (b"\x01a\x04test\x00\x00\x01\x00\x01") * 2,
            True,
            id="question-twice",
        ),
    ],
)
def test_is_response_to(data: bytes, expected: bool) -> None:
    """A response matches on QR, ID, opcode and question, as dnspython's is_response does."""
    query = dns.message.make_query("a.test", "A")
    query.id = 7
    assert is_response_to(decode_message(data), 7, QUESTION) is expected
    assert query.is_response(dns.message.from_wire(data)) is expected


def test_code_names_are_dnspythons() -> None:
    """Response codes and extended error codes are named as dnspython names them."""
    assert [rcode_text(c) for c in range(4096)] == [dns.rcode.to_text(c) for c in range(4096)]  # type: ignore[arg-type]
    assert [ede_name(c) for c in range(300)] == [dns.edns.EDECode.to_text(c) for c in range(300)]


# --- differential: random messages written by dnspython, read by both ---------------------

LABELS = st.one_of(
    st.sampled_from([b"example", b"EXAMPLE", b"com", b"mx1", b"_dmarc", b"xn--fa-hia", b"a.b"]),
    st.binary(min_size=1, max_size=6),
)
NAMES = st.lists(LABELS, max_size=4).map(lambda labels: dns.name.Name([*labels, b""]))
ZERO_RICH = st.lists(st.sampled_from([0, 0, 1, 0xFFFF, 0x0DB8]), min_size=8, max_size=8).map(
    lambda groups: b"".join(g.to_bytes(2, "big") for g in groups)
)


def make(kind: Any, rdtype: str, *args: object, rdclass: int = IN) -> dns.rdata.Rdata:
    """A dnspython rdata of class ``kind`` (its constructors are untyped)."""
    return cast(dns.rdata.Rdata, kind(rdclass, dns.rdatatype.from_text(rdtype), *args))


def _generic(rdtype: int) -> st.SearchStrategy[dns.rdata.Rdata]:
    return st.binary(max_size=12).map(
        lambda data: make(dns.rdata.GenericRdata, f"TYPE{rdtype}", data)
    )


DIGESTS = st.one_of(
    st.tuples(st.sampled_from([0, 3, 255]), st.binary(max_size=20)),
    st.tuples(st.just(1), st.binary(min_size=32, max_size=32)),
    st.tuples(st.just(2), st.binary(min_size=64, max_size=64)),
)
RDATA = st.one_of(
    st.binary(min_size=4, max_size=4).map(lambda b: make(A, "A", dns.ipv4.inet_ntoa(b))),
    st.one_of(ZERO_RICH, st.binary(min_size=16, max_size=16)).map(
        lambda b: make(AAAA, "AAAA", dns.ipv6.inet_ntoa(b))
    ),
    NAMES.map(lambda n: make(CNAME, "CNAME", n)),
    NAMES.map(lambda n: make(NS, "NS", n)),
    NAMES.map(lambda n: make(PTR, "PTR", n)),
    st.builds(lambda p, n: make(MX, "MX", p, n), st.integers(0, 65535), NAMES),
    st.lists(st.binary(max_size=20), min_size=1, max_size=3).map(lambda s: make(TXT, "TXT", s)),
    st.lists(st.binary(max_size=6), min_size=1, max_size=2).map(
        lambda s: make(TXT, "TXT", s, rdclass=CH)
    ),
    st.builds(
        lambda u, s, d: make(TLSA, "TLSA", u, s, d[0], d[1]),
        st.integers(0, 255),
        st.integers(0, 255),
        DIGESTS,
    ),
    st.builds(lambda m, r: make(SOA, "SOA", m, r, 1, 2, 3, 4, 5), NAMES, NAMES),
    _generic(65280),
    _generic(65534),
)
RECORDS = st.lists(st.tuples(NAMES, RDATA), max_size=6)
EDE = st.builds(
    dns.edns.EDEOption, st.integers(0, 65535), st.one_of(st.none(), st.text(max_size=8))
)


@st.composite
def messages(draw: st.DrawFn) -> dns.message.Message:
    """A response built with dnspython: random question, records, flags, rcode and EDNS."""
    qname = draw(NAMES)
    qtype = draw(st.sampled_from(["A", "AAAA", "MX", "TXT", "TLSA", "CNAME", "NS", "PTR"]))
    response = dns.message.make_response(dns.message.make_query(qname, qtype))
    response.id = draw(st.integers(0, 65535))
    for section, records in ((response.answer, draw(RECORDS)), (response.authority, draw(RECORDS))):
        for owner, rdata in records:
            section.append(dns.rrset.from_rdata(owner, 60, rdata))
    rcode = draw(st.sampled_from([0, 2, 3, 5, 16, 23]))
    options = draw(st.lists(EDE, max_size=2))
    if rcode > 15 or options or draw(st.booleans()):
        flags = draw(st.sampled_from([0, dns.flags.DO]))
        response.use_edns(0, ednsflags=flags, options=list[dns.edns.Option](options))
    response.set_rcode(dns.rcode.Rcode.make(rcode))
    response.flags |= draw(st.sampled_from([0, dns.flags.TC, dns.flags.AD, dns.flags.AA]))
    return response


def _text(name: dns.name.Name) -> str:
    text = name.to_text(omit_final_dot=True).lower()
    return "" if text == "." else text


def _value(rdata: dns.rdata.Rdata) -> DnsRecord:
    """What the probe made of a record while it used dnspython (convert_rdata)."""
    if isinstance(rdata, TXT):
        return b"".join(rdata.strings)
    if isinstance(rdata, MX):
        return MxRecord(rdata.preference, _text(rdata.exchange))
    if isinstance(rdata, TLSA):
        return TlsaRecord(rdata.usage, rdata.selector, rdata.mtype, rdata.cert)
    if isinstance(rdata, A | AAAA):
        return str(rdata.address)
    if isinstance(rdata, CNAME | NS | PTR):
        return _text(rdata.target)
    return rdata.to_generic().to_text()


def assert_agrees(ours: WireMessage, theirs: dns.message.Message, *, generic: bool = True) -> None:
    """Every field the codec exposes equals dnspython's reading of the same octets."""
    assert (ours.id, ours.flags, ours.rcode) == (theirs.id, theirs.flags, theirs.rcode())
    assert ours.question == tuple(
        Question(_text(q.name), q.rdtype, q.rdclass) for q in theirs.question
    )
    expected = {
        (_text(rrset.name), int(rrset.rdtype)): tuple(_value(rd) for rd in rrset)
        for rrset in theirs.answer
        if rrset.rdclass == IN and rrset.rdtype not in RRSIG_TYPES
    }
    if not generic:  # names inside undecoded types may be compressed: their text differs
        expected = {key: v for key, v in expected.items() if key[1] not in (6, 65280, 65534)}
    for key, values in expected.items():
        assert ours.rrset(*key) == values
    ours_keys = {(r.name, r.rdtype) for r in ours.answer if r.rdclass == IN}
    assert {key for key in ours_keys if key[1] not in RRSIG_TYPES} >= expected.keys()
    assert ours.authority_types == {int(rrset.rdtype) for rrset in theirs.authority}
    assert ours.edns_flags == (theirs.ednsflags if theirs.opt is not None else None)
    assert ours.extended_errors == tuple(
        ExtendedError(e.code, e.text or "") for e in theirs.extended_errors()
    )


@given(messages())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_decoder_agrees_with_dnspython(response: dns.message.Message) -> None:
    """Random responses written by dnspython (compression, odd octets, EDNS, EDE, flags) read
    the same through the codec as through dnspython."""
    wire = response.to_wire()
    assert_agrees(decode_message(wire), dns.message.from_wire(wire), generic=False)


@given(st.binary(max_size=300))
def test_any_octets_give_a_message_or_a_wire_error(data: bytes) -> None:
    """For any octets the decoder returns a message or raises WireError, nothing else."""
    with contextlib.suppress(WireError):
        decode_message(data)


@given(messages(), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_messages_never_raise_anything_else(
    response: dns.message.Message, data: st.DataObject
) -> None:
    """Real messages with octets changed, cut or added still read or raise WireError only; what
    both decoders accept reads the same, and what dnspython accepts the codec accepts too."""
    wire = bytearray(response.to_wire())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(wire)))
        action = data.draw(st.sampled_from(["set", "cut", "insert"]))
        if action == "set" and at < len(wire):
            wire[at] = data.draw(st.sampled_from([0, 1, 0x3F, 0x40, 0xC0, 0xFF, 12, 41]))
        elif action == "cut":
            del wire[at:]
        else:
            wire[at:at] = data.draw(st.binary(min_size=1, max_size=3))
    mutated = bytes(wire)
    try:
        ours: WireMessage | None = decode_message(mutated)
    except WireError:
        ours = None
    try:
        theirs: dns.message.Message | None = dns.message.from_wire(mutated)
    except (dns.exception.DNSException, ValueError):
        theirs = None
    if theirs is not None:
        assert ours is not None, "dnspython reads a message the codec refuses"
        assert_agrees(ours, theirs, generic=False)
