"""Reading the server name from a ClientHello: real hellos, fragments, garbage, never raising."""

from __future__ import annotations

import ssl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailshield.interfaces.policy_server_hello import (
    Hello,
    HelloStatus,
    read_client_hello,
)


def client_hello(server_name: str | None, alpn: tuple[str, ...] = ()) -> bytes:
    """The first flight of Python's TLS client for ``server_name`` (None: no SNI)."""
    context = ssl.create_default_context()
    context.check_hostname = server_name is not None
    if alpn:
        context.set_alpn_protocols(list(alpn))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def split_into_records(hello: bytes, size: int) -> bytes:
    """Re-frame one handshake record's payload into records of at most ``size`` bytes."""
    payload = hello[5:]
    out = b""
    for offset in range(0, len(payload), size):
        part = payload[offset : offset + size]
        out += bytes([22, 3, 1]) + len(part).to_bytes(2) + part
    return out


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(client_hello("mta-sts.a.example"), "mta-sts.a.example", id="sni"),
        pytest.param(client_hello("MTA-STS.B.Example"), "mta-sts.b.example", id="lower-cased"),
        pytest.param(
            split_into_records(client_hello("mta-sts.c.example"), 100),
            "mta-sts.c.example",
            id="hello-over-several-records",
        ),
    ],
)
def test_server_name_is_read(data: bytes, expected: str) -> None:
    """A complete ClientHello yields its server_name (RFC 6066 §3), lower-cased."""
    assert read_client_hello(data) == Hello(HelloStatus.NAME, expected)


def test_alpn_protocols_are_read() -> None:
    """The protocols offered by ALPN (RFC 7301 §3.1) come with the name, in order."""
    hello = read_client_hello(client_hello("mta-sts.a.example", ("acme-tls/1", "http/1.1")))
    assert hello == Hello(HelloStatus.NAME, "mta-sts.a.example", ("acme-tls/1", "http/1.1"))


def test_hello_without_sni_has_no_name() -> None:
    """A client connecting by IP address sends no server_name."""
    assert read_client_hello(client_hello(None)).status is HelloStatus.NO_NAME


def test_every_proper_prefix_is_incomplete() -> None:
    """Any cut of a real hello asks for more bytes instead of guessing."""
    hello = client_hello("mta-sts.a.example")
    assert {read_client_hello(hello[:cut]).status for cut in range(len(hello))} == {
        HelloStatus.INCOMPLETE
    }


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="plain-http"),
        pytest.param(bytes([23, 3, 3, 0, 5]) + b"hello", id="application-data-record"),
        pytest.param(bytes([22, 3, 3, 0, 0]), id="empty-record"),
        pytest.param(bytes([22, 3, 3, 0, 4, 2, 0, 0, 0]), id="server-hello"),
        pytest.param(bytes([22, 3, 3, 0x50, 0]), id="record-too-long"),
        pytest.param(bytes([22, 3, 3, 0, 4, 1, 0, 0, 0]), id="empty-client-hello"),
        pytest.param(bytes([22, 3, 3, 0, 4, 1, 0xFF, 0xFF, 0xFF]), id="hello-too-long"),
    ],
)
def test_non_hellos_are_not_tls(data: bytes) -> None:
    """Anything but a ClientHello handshake record is refused at once."""
    assert read_client_hello(data).status is HelloStatus.NOT_TLS


def test_non_ascii_name_counts_as_no_name() -> None:
    """A server_name with non-ASCII bytes (not an A-label) is treated as absent."""
    hello = client_hello("mta-sts.a.example")
    broken = hello.replace(b"mta-sts.a.example", b"mta-sts.\xe4.example")
    assert read_client_hello(broken).status is HelloStatus.NO_NAME


HELLO = client_hello("mta-sts.a.example")


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(st.binary(max_size=600))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    """For any input the reader returns a verdict and never raises."""
    assert isinstance(read_client_hello(data), Hello)


@settings(deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_on_corrupted_hellos(noise: bytes) -> None:
    """A real hello with its tail replaced by noise gets a verdict, never an exception."""
    head = HELLO[:5] + bytes([1]) + (len(noise) + 40).to_bytes(3)
    result = read_client_hello(head + noise)
    assert result.status in set(HelloStatus)
