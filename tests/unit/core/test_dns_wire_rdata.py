"""Record data from the wire: the types the checker reads as values, any other as RFC 3597 text."""

import dns.ipv6
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.dns_wire_codes import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_MX,
    TYPE_NS,
    TYPE_PTR,
    TYPE_TLSA,
    TYPE_TXT,
    WireError,
)
from mailshield.core.dns_wire_rdata import decode_rdata, generic_text, ipv6_text
from mailshield.core.observations import DnsRecord, MxRecord, TlsaRecord

IN = dns.rdataclass.IN
PRIVATE_TYPE = dns.rdatatype.RdataType.make(65280)
PREFIX = bytes(12) + b"\x07example\x03com\x00"  # a name at offset 12 for pointers to reach


@pytest.mark.parametrize(
    ("rdtype", "rdata", "value"),
    [
        pytest.param(TYPE_A, b"\xc0\x00\x02\x01", "192.0.2.1", id="a"),
        pytest.param(
            TYPE_AAAA, bytes.fromhex("20010db8" + "0" * 23 + "1"), "2001:db8::1", id="aaaa"
        ),
        pytest.param(TYPE_CNAME, b"\x03WWW\xc0\x0c", "www.example.com", id="cname-compressed"),
        pytest.param(TYPE_NS, b"\x03ns1\x00", "ns1", id="ns"),
        pytest.param(TYPE_PTR, b"\xc0\x0c", "example.com", id="ptr"),
        pytest.param(TYPE_MX, b"\x00\x0a\x02MX\xc0\x0c", MxRecord(10, "mx.example.com"), id="mx"),
        pytest.param(TYPE_MX, b"\x00\x00\x00", MxRecord(0, ""), id="null-mx"),
        pytest.param(TYPE_TXT, b"\x05v=spf\x07 1 -all", b"v=spf 1 -all", id="txt-joined"),
        pytest.param(TYPE_TXT, b"\x00", b"", id="txt-one-empty-string"),
        pytest.param(
            TYPE_TLSA, b"\x03\x01\x01" + bytes(32), TlsaRecord(3, 1, 1, bytes(32)), id="tlsa"
        ),
        pytest.param(TYPE_TLSA, b"\x03\x01\x00", TlsaRecord(3, 1, 0, b""), id="tlsa-no-data"),
        pytest.param(
            TYPE_TLSA, b"\x02\x00\x09\xab", TlsaRecord(2, 0, 9, b"\xab"), id="tlsa-mtype-9"
        ),
        pytest.param(  # RFC 6698 §4.1: unusable, which the DANE check reports; still read
            TYPE_TLSA,
            b"\x03\x01\x01" + bytes(31),
            TlsaRecord(3, 1, 1, bytes(31)),
            id="tlsa-sha256-short",
        ),
        pytest.param(
            TYPE_TLSA,
            b"\x03\x01\x02" + bytes(32),
            TlsaRecord(3, 1, 2, bytes(32)),
            id="tlsa-sha512-short",
        ),
    ],
)
def test_decode_rdata(rdtype: int, rdata: bytes, value: DnsRecord) -> None:
    """Each decoded type becomes its observation value, names lower-cased without the dot."""
    data = PREFIX + rdata
    assert decode_rdata(data, len(PREFIX), len(data), rdtype) == value


@pytest.mark.parametrize(
    ("rdtype", "rdata"),
    [
        pytest.param(TYPE_A, b"\x01\x02\x03", id="a-short"),
        pytest.param(TYPE_A, b"\x01\x02\x03\x04\x05", id="a-long"),
        pytest.param(TYPE_AAAA, bytes(15), id="aaaa-short"),
        pytest.param(TYPE_CNAME, b"\x03www\x00\x00", id="octets-after-the-name"),
        pytest.param(TYPE_CNAME, b"\x03www", id="name-runs-out"),
        pytest.param(TYPE_MX, b"\x00\x0a", id="mx-without-name"),
        pytest.param(TYPE_TXT, b"", id="txt-without-strings"),
        pytest.param(TYPE_TXT, b"\x05abc", id="txt-string-runs-out"),
        pytest.param(TYPE_TLSA, b"\x03\x01", id="tlsa-short"),
    ],
)
def test_decode_rdata_refuses(rdtype: int, rdata: bytes) -> None:
    """Record data that does not fill its length exactly is a WireError."""
    data = PREFIX + rdata
    with pytest.raises(WireError):
        decode_rdata(data, len(PREFIX), len(data), rdtype)


def test_a_name_in_rdata_stays_inside_it() -> None:
    """A name in record data may not run past the record, even if the message goes on."""
    data = PREFIX + b"\x03www\x00"
    with pytest.raises(WireError):
        decode_rdata(data, len(PREFIX), len(data) - 1, TYPE_CNAME)


GROUPS = st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x0DB8, 0xABCD]), min_size=8, max_size=8)


@given(
    st.one_of(
        GROUPS.map(lambda g: b"".join(x.to_bytes(2, "big") for x in g)),
        st.binary(min_size=16, max_size=16),
    )
)
def test_ipv6_text_agrees_with_dnspython(octets: bytes) -> None:
    """Any IPv6 address reads as dnspython writes it, dotted IPv4 tails included."""
    assert ipv6_text(octets) == dns.ipv6.inet_ntoa(octets)


@given(st.binary(max_size=70))
def test_generic_text_agrees_with_dnspython(rdata: bytes) -> None:
    """Undecoded records read as dnspython's RFC 3597 text."""
    assert generic_text(rdata) == dns.rdata.GenericRdata(IN, PRIVATE_TYPE, rdata).to_text()
