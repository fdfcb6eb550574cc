"""The HTTPS probe against in-test TLS servers: statuses, no redirects, caps, timeouts, chains."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable

import dns.message
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from probe_dns_peer import Reply, StartDnsPeer, reply
from probe_tls_peers import (
    HTTPS_HOST,
    SMTP_HOST,
    Canary,
    SmtpScript,
    StartHttpsPeer,
    StartSmtpPeer,
    StaticLookup,
    http_response,
    static,
)

from mailshield.core.observations import ConnectOutcome, HttpsFetch
from mailshield.lab.ca import IssuedCert, LabCA
from mailshield.probes.dns import DnsClient
from mailshield.probes.https import HttpsClient
from mailshield.probes.net_policy import AddressPolicy

HOST = "mta-sts.example.test"
LAB = AddressPolicy(allow_private=True)
POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n"


def client(*addresses: str, **options: object) -> HttpsClient:
    """A lab-mode client whose DNS maps the policy host to ``addresses``."""
    lookup = StaticLookup({HOST: list(addresses or [HTTPS_HOST])})
    options.setdefault("timeout", 2.0)
    return HttpsClient(lookup, policy=LAB, **options)  # type: ignore[arg-type]


def url(port: int, path: str = "/.well-known/mta-sts.txt") -> str:
    """The policy URL on the test port."""
    return f"https://{HOST}:{port}{path}"


def leaf_der(cert: IssuedCert) -> bytes:
    """The DER of an issued leaf certificate."""
    return x509.load_pem_x509_certificate(cert.cert_pem).public_bytes(Encoding.DER)


async def test_policy_is_fetched_with_sni_and_recorded(https_peer: StartHttpsPeer) -> None:
    """A 200 answer is recorded whole: status, headers, body, address and the TLS session."""
    peer = await https_peer(static(http_response("200 OK", POLICY, "Content-Type: text/plain")))
    fetch = await client().fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.OK, fetch.error
    assert (fetch.status, fetch.body, fetch.truncated) == (200, POLICY, False)
    assert fetch.header("content-type") == "text/plain"
    assert fetch.address == HTTPS_HOST
    assert fetch.host == HOST
    assert fetch.tls is not None
    assert fetch.tls.server_name == HOST
    assert fetch.tls.version in ("TLSv1.2", "TLSv1.3")
    assert fetch.elapsed > 0


async def test_request_is_a_plain_http11_get(https_peer: StartHttpsPeer) -> None:
    """The request names the host (with the port), closes the connection and says who we are."""
    peer = await https_peer(static(http_response("200 OK", POLICY)))
    await client().fetch(url(peer.port) + "?x=1")
    [head] = peer.requests
    lines = head.decode().split("\r\n")
    assert lines[0] == "GET /.well-known/mta-sts.txt?x=1 HTTP/1.1"
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if line)}
    assert headers["host"] == f"{HOST}:{peer.port}"
    assert headers["connection"] == "close"
    assert headers["user-agent"].startswith("MailShield/")


@pytest.mark.parametrize(
    ("response", "status", "location"),
    [
        pytest.param(
            http_response("301 Moved Permanently", b"", "Location: https://elsewhere.test/p"),
            301,
            "https://elsewhere.test/p",
            id="301-not-followed",
        ),
        pytest.param(http_response("302 Found", b"", "Location: /other"), 302, "/other", id="302"),
        pytest.param(http_response("404 Not Found", b"nope"), 404, None, id="404"),
        pytest.param(http_response("500 Internal Server Error"), 500, None, id="500"),
    ],
)
async def test_non_200_answers_are_recorded_not_followed(
    https_peer: StartHttpsPeer, response: bytes, status: int, location: str | None
) -> None:
    """Redirects are recorded with their Location and never followed (RFC 8461 §3.3)."""
    peer = await https_peer(static(response))
    fetch = await client().fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.OK
    assert fetch.status == status
    assert fetch.header("Location") == location
    assert len(peer.requests) == 1


async def test_oversized_body_is_truncated_at_cap_plus_one(https_peer: StartHttpsPeer) -> None:
    """A body over the cap keeps cap+1 bytes, is marked truncated, and reading stops."""
    body = b"x" * (200 * 1024)
    peer = await https_peer(static(http_response("200 OK", body)))
    fetch = await client().fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.OK
    assert fetch.truncated
    assert fetch.body == body[: 64 * 1024 + 1]


async def test_body_at_the_cap_is_not_truncated(https_peer: StartHttpsPeer) -> None:
    """Exactly cap bytes is a whole body."""
    peer = await https_peer(static(http_response("200 OK", b"y" * 100)))
    fetch = await client(max_body=100).fetch(url(peer.port))
    assert (len(fetch.body), fetch.truncated) == (100, False)


async def test_slow_body_times_out_keeping_what_arrived(https_peer: StartHttpsPeer) -> None:
    """Headers then a stalled body end in TIMEOUT, with the status already seen kept."""

    stalled = asyncio.Event()

    async def stall(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nversion")
        await writer.drain()
        await stalled.wait()

    peer = await https_peer(stall)
    fetch = await client(timeout=0.5).fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.TIMEOUT
    assert fetch.status == 200
    assert fetch.body == b"version"
    assert "timed out" in fetch.error
    stalled.set()


async def test_untrusted_certificate_still_completes_and_is_recorded(
    https_peer: StartHttpsPeer,
    tls_context: Callable[..., ssl.SSLContext],
    lab_ca: LabCA,
) -> None:
    """A self-signed certificate does not stop the fetch; its chain is recorded for judging."""
    cert = lab_ca.issue("wrong.example.test", self_signed=True)
    peer = await https_peer(static(http_response("200 OK", POLICY)), tls_context(cert))
    fetch = await client().fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.OK
    assert fetch.tls is not None
    assert fetch.tls.chain_der == (leaf_der(cert),)


async def test_whole_presented_chain_is_recorded_leaf_first(
    https_peer: StartHttpsPeer,
    tls_context: Callable[..., ssl.SSLContext],
    lab_ca: LabCA,
) -> None:
    """Every certificate the server sends is kept, in order, as DER."""
    leaf = lab_ca.issue(HOST)
    with_root = IssuedCert(leaf.cert_pem, lab_ca.cert_pem, leaf.key_pem)
    peer = await https_peer(static(http_response("200 OK", POLICY)), tls_context(with_root))
    fetch = await client().fetch(url(peer.port))
    assert fetch.tls is not None
    assert fetch.tls.chain_der == (leaf_der(leaf), lab_ca.cert.public_bytes(Encoding.DER))


async def test_server_not_speaking_tls_is_a_tls_failure(smtp_peer: StartSmtpPeer) -> None:
    """A port that answers in plaintext (here an SMTP banner) fails the handshake."""
    peer = await smtp_peer(SmtpScript())
    fetch = await client(SMTP_HOST).fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.TLS_FAILED
    assert fetch.error.startswith("TLS handshake failed")
    assert fetch.tls is None


def free_port(host: str) -> int:
    """A port on ``host`` where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def test_refused_connection(https_peer: StartHttpsPeer) -> None:
    """Nothing listening is REFUSED, with the address tried recorded."""
    fetch = await client().fetch(url(free_port(HTTPS_HOST)))
    assert fetch.outcome is ConnectOutcome.REFUSED
    assert fetch.address == HTTPS_HOST


async def test_next_address_is_tried_after_a_refusal(https_peer: StartHttpsPeer) -> None:
    """When the first address refuses, the next resolved address is used."""
    peer = await https_peer(static(http_response("200 OK", POLICY)))
    dead = "127.0.4.9"
    fetch = await client(dead, HTTPS_HOST).fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.OK
    assert fetch.address == HTTPS_HOST


@pytest.mark.parametrize(
    ("lookup", "outcome"),
    [
        pytest.param(StaticLookup({}), ConnectOutcome.NO_ADDRESS, id="nxdomain"),
        pytest.param(StaticLookup({HOST: []}), ConnectOutcome.NO_ADDRESS, id="nodata"),
        pytest.param(
            StaticLookup({HOST: []}, failing={HOST}), ConnectOutcome.DNS_FAILED, id="timeout"
        ),
    ],
)
async def test_address_lookup_outcomes(lookup: StaticLookup, outcome: ConnectOutcome) -> None:
    """No address and a failed address lookup are told apart."""
    fetch = await HttpsClient(lookup, policy=LAB).fetch(url(443))
    assert fetch.outcome is outcome
    assert {rdtype for _, rdtype in lookup.asked} == {"A", "AAAA"}


@pytest.mark.parametrize(
    "bad_url",
    [
        pytest.param("http://mta-sts.example.test/.well-known/mta-sts.txt", id="http"),
        pytest.param("https:///path", id="no-host"),
        pytest.param("https://user:pw@mta-sts.example.test/", id="credentials"),
        pytest.param("https://mta-sts.example.test:99999/", id="bad-port"),
    ],
)
async def test_unfetchable_urls_are_protocol_errors(bad_url: str) -> None:
    """Only https URLs with a host are fetched; nothing is resolved for the others."""
    lookup = StaticLookup({})
    fetch = await HttpsClient(lookup).fetch(bad_url)
    assert fetch.outcome is ConnectOutcome.PROTOCOL_ERROR
    assert fetch.error
    assert lookup.asked == []


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("127.0.0.1", id="loopback"),
        pytest.param("::ffff:127.0.0.1", id="mapped-loopback"),
    ],
)
async def test_guard_keeps_the_probe_off_private_addresses(canary: Canary, address: str) -> None:
    """Without lab mode a host resolving to loopback is BLOCKED and the canary hears nothing."""
    lookup = StaticLookup({HOST: [address]})
    fetch = await HttpsClient(lookup).fetch(url(canary.port))
    assert fetch.outcome is ConnectOutcome.BLOCKED
    assert "loopback" in fetch.error
    assert canary.connections == 0


async def test_guard_applies_to_ip_literal_urls(canary: Canary) -> None:
    """A URL naming a private IP directly is refused without any DNS query."""
    lookup = StaticLookup({})
    fetch = await HttpsClient(lookup).fetch(f"https://127.0.0.1:{canary.port}/")
    assert fetch.outcome is ConnectOutcome.BLOCKED
    assert canary.connections == 0
    assert lookup.asked == []


async def test_fetch_through_the_dns_probe(
    https_peer: StartHttpsPeer, dns_peer: StartDnsPeer
) -> None:
    """End to end: the DNS probe resolves the host and the fetch connects to that address."""

    def answer(query: dns.message.Message, transport: str) -> Reply:
        if query.question[0].rdtype == 1:  # A
            return reply(query, f"{HOST}. 300 IN A {HTTPS_HOST}")
        return reply(query)

    resolver = await dns_peer(answer)
    peer = await https_peer(static(http_response("200 OK", POLICY)))
    https = HttpsClient(DnsClient([resolver.address]), policy=LAB, timeout=2.0)
    fetch: HttpsFetch = await https.fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.OK
    assert fetch.body == POLICY


async def test_oversized_response_headers_are_a_protocol_error(https_peer: StartHttpsPeer) -> None:
    """A header block beyond the bound ends the fetch instead of growing without limit."""
    huge = "X-Filler: " + "a" * 40_000
    peer = await https_peer(static(http_response("200 OK", POLICY, huge)))
    fetch = await client().fetch(url(peer.port))
    assert fetch.outcome is ConnectOutcome.PROTOCOL_ERROR
    assert fetch.status is None
