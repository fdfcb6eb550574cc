"""Reading plain queries from the wire: what a resolver sends is read, anything else is declined."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.dns_server_wire import read_query, wire_name


@given(st.binary(max_size=600))
def test_any_bytes_are_read_or_declined(wire: bytes) -> None:
    """For any bytes read_query returns a query or None and never raises."""
    read_query(wire)


@given(
    st.sampled_from(["d0001.test", "MX.D0001.Test", "_25._tcp.mx.example", "."]),
    st.sampled_from(["A", "MX", "TXT", "TLSA"]),
    st.one_of(st.none(), st.integers(0, 65535)),
    st.booleans(),
)
def test_resolver_queries_round_trip(name: str, rdtype: str, payload: int | None, do: bool) -> None:
    """A dnspython query is read back with its name, type, EDNS size and DO flag."""
    query = dns.message.make_query(
        name,
        rdtype,
        use_edns=False if payload is None else 0,
        payload=payload or 0,
        want_dnssec=do and payload is not None,
    )
    plain = read_query(query.to_wire())
    assert plain is not None
    assert plain.qname == dns.name.from_text(name).canonicalize().to_wire()
    assert plain.question == query.to_wire()[12 : 12 + len(plain.question)]
    assert plain.qtype == dns.rdatatype.from_text(rdtype)
    assert (plain.edns, plain.payload) == (payload is not None, payload or 0)
    assert plain.do is (do and payload is not None)


def _pointer_in_name() -> bytes:
    wire = bytearray(dns.message.make_query("a.test", "A").to_wire())
    return bytes(wire[:12]) + b"\x01a\xc0\x0c" + bytes(wire[-4:])


def _two_questions() -> bytes:
    query = dns.message.make_query("a.test", "A")
    query.question.append(dns.message.make_query("b.test", "A").question[0])
    return query.to_wire()


def _padded() -> bytes:
    padding = dns.edns.GenericOption(dns.edns.OptionType.PADDING, b"\x00" * 8)
    return dns.message.make_query("a.test", "A", use_edns=0, options=[padding]).to_wire()


def _signed() -> bytes:
    query = dns.message.make_query("a.test", "A")
    query.use_tsig(dns.tsigkeyring.from_text({"k.": "c2VjcmV0c2VjcmV0"}), keyname="k.")
    return query.to_wire()


def _with_opcode(opcode: dns.opcode.Opcode) -> bytes:
    query = dns.message.make_query("a.test", "SOA")
    query.set_opcode(opcode)
    return query.to_wire()


def _response() -> bytes:
    return dns.message.make_response(dns.message.make_query("a.test", "A")).to_wire()


DECLINED = [
    pytest.param(_pointer_in_name(), id="compressed-question-name"),
    pytest.param(_two_questions(), id="two-questions"),
    pytest.param(_padded(), id="edns-padding"),
    pytest.param(_signed(), id="tsig"),
    pytest.param(_with_opcode(dns.opcode.NOTIFY), id="notify"),
    pytest.param(_with_opcode(dns.opcode.UPDATE), id="update"),
    pytest.param(_response(), id="response"),
    pytest.param(dns.message.make_query("a.test", "A").to_wire() + b"\x00", id="trailing-byte"),
    pytest.param(dns.message.make_query("a.test", "A").to_wire()[:-1], id="cut-short"),
]


@pytest.mark.parametrize("wire", DECLINED)
def test_other_messages_are_declined(wire: bytes) -> None:
    """Anything but a plain query is left to dnspython."""
    assert read_query(wire) is None


def test_edns_options_other_than_padding_are_ignored() -> None:
    """A cookie does not change the reply, so a query carrying one is still plain."""
    cookie = dns.edns.GenericOption(dns.edns.OptionType.COOKIE, b"\x01" * 8)
    wire = dns.message.make_query("a.test", "A", use_edns=0, options=[cookie]).to_wire()
    plain = read_query(wire)
    assert plain is not None
    assert plain.edns


def test_wire_name_keys_every_suffix_in_lower_case() -> None:
    """Each label comes with the lower-case wire form of the suffix it starts."""
    assert wire_name((b"MX", b"Test")) == (
        (b"\x02mx\x04test\x00", b"\x02MX"),
        (b"\x04test\x00", b"\x04Test"),
    )
