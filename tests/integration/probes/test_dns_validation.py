"""Resolver validation detection: the AD bit on the root DNSKEY answer decides."""

import socket
import threading
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.rcode
import pytest

from mailshield.probes.dns_validation import resolver_validates


def _serve(sock: socket.socket, ad: bool, rcode: int) -> None:
    while True:
        try:
            data, peer = sock.recvfrom(4096)
        except TimeoutError:
            continue
        except OSError:  # closed by the fixture
            return
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.Rcode(rcode))
        if ad:
            response.flags |= dns.flags.AD
        sock.sendto(response.to_wire(), peer)


@pytest.fixture
def responder(request: pytest.FixtureRequest) -> Iterator[str]:
    ad, rcode = request.param
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.4.53", 0))
    sock.settimeout(0.05)
    thread = threading.Thread(target=_serve, args=(sock, ad, rcode), daemon=True)
    thread.start()
    yield f"127.0.4.53:{sock.getsockname()[1]}"
    sock.close()
    thread.join(timeout=2)


@pytest.mark.parametrize(
    ("responder", "expected"),
    [
        pytest.param((True, dns.rcode.NOERROR), True, id="ad-set"),
        pytest.param((False, dns.rcode.NOERROR), False, id="no-ad"),
        pytest.param((True, dns.rcode.REFUSED), False, id="refused"),
    ],
    indirect=["responder"],
)
def test_validation_detected_from_root_answer(responder: str, expected: bool) -> None:
    """Only a NOERROR answer with AD means the resolver validates."""
    assert resolver_validates([responder], timeout=1.0) is expected


def test_silent_resolver_is_not_validating() -> None:
    """No answer at all means "not known to validate", after the timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.4.54", 0))
    try:
        assert resolver_validates([f"127.0.4.54:{sock.getsockname()[1]}"], timeout=0.2) is False
    finally:
        sock.close()
