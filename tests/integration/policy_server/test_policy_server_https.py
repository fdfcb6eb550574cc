"""The policy server's HTTPS side: tenant isolation, statuses, headers, certificates by SNI."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

import pytest
from tests.integration.policy_server.client import (
    fetch,
    open_tls,
    peer_certificate_serial,
    read_response,
    request_bytes,
    until_closed,
)
from tests.integration.policy_server.conftest import (
    POLICY_A,
    POLICY_B,
    UNCERTIFIED,
    A,
    B,
    make_server,
    new_certificate,
)
from tests.support.hosting_fakes import FakeHosting

from mailshield.interfaces.policy_server import PolicyServer
from mailshield.lab.ca import LabCA
from mailshield.storage.certificates import CertificateStore


async def test_policy_is_served_as_given_with_plain_text_headers(
    server: PolicyServer, cafile: Path
) -> None:
    """GET returns 200, the CRLF body byte for byte, text/plain UTF-8 and a short Cache-Control."""
    response = await fetch(server.https_port, sni=A, cafile=cafile)
    assert response.status == 200
    assert response.body == POLICY_A
    assert response.body.endswith(b"\r\n")
    assert b"\n" not in response.body.replace(b"\r\n", b"")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "max-age=60"
    assert "location" not in response.headers


async def test_head_gives_the_headers_without_a_body(server: PolicyServer, cafile: Path) -> None:
    """HEAD answers 200 with the policy's length and no body."""
    response = await fetch(server.https_port, sni=B, cafile=cafile, method="HEAD")
    assert response.status == 200
    assert response.body == b""
    assert response.headers["content-length"] == str(len(POLICY_B))


@pytest.mark.parametrize(
    "host",
    [
        pytest.param(A, id="other-tenant"),
        pytest.param("mta-sts.unknown.example", id="unknown-host"),
        pytest.param("127.0.0.1", id="address"),
    ],
)
async def test_host_must_name_the_tls_tenant(server: PolicyServer, cafile: Path, host: str) -> None:
    """Host naming anything but the SNI tenant gets 404 and neither tenant's policy."""
    response = await fetch(server.https_port, sni=B, host=host, cafile=cafile)
    assert response.status == 404
    assert b"mx." not in response.body
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("MTA-STS.A.Example", id="upper-case"),
        pytest.param(f"{A}.", id="trailing-dot"),
        pytest.param(f"{A}:443", id="with-port"),
    ],
)
async def test_host_is_compared_in_canonical_form(
    server: PolicyServer, cafile: Path, host: str
) -> None:
    """Case, a final dot and a port in Host do not change the tenant (RFC 9110 §7.2)."""
    response = await fetch(server.https_port, sni=A, host=host, cafile=cafile)
    assert (response.status, response.body) == (200, POLICY_A)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", id="root"),
        pytest.param("/.well-known/mta-sts.txt/", id="trailing-slash"),
        pytest.param("/.well-known/MTA-STS.txt", id="case"),
        pytest.param("/.well-known/acme-challenge/abc", id="challenge-over-https"),
    ],
)
async def test_other_paths_are_404_never_a_redirect(
    server: PolicyServer, cafile: Path, path: str
) -> None:
    """Any other path gets a plain 404, never a 3xx (RFC 8461 §3.3 forbids following one)."""
    response = await fetch(server.https_port, sni=A, path=path, cafile=cafile)
    assert response.status == 404
    assert "location" not in response.headers


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
async def test_other_methods_get_405_with_allow(
    server: PolicyServer, cafile: Path, method: str
) -> None:
    """Methods other than GET and HEAD on the policy get 405 naming the allowed ones."""
    response = await fetch(server.https_port, sni=A, method=method, cafile=cafile)
    assert response.status == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_hosted_name_without_policy_body_is_404(
    server: PolicyServer, hosting: FakeHosting, cafile: Path
) -> None:
    """A certified name whose domain is no longer hosted answers 404."""
    del hosting.policies[B]
    response = await fetch(server.https_port, sni=B, cafile=cafile)
    assert response.status == 404


@pytest.mark.parametrize(
    "sni",
    [
        pytest.param(UNCERTIFIED, id="hosted-no-certificate"),
        pytest.param("mta-sts.stranger.example", id="unknown-name"),
        pytest.param(None, id="no-sni"),
    ],
)
async def test_names_without_certificate_fail_the_handshake(
    server: PolicyServer, cafile: Path, sni: str | None
) -> None:
    """No certificate for the server name means an aborted handshake, never another tenant's."""
    with pytest.raises(ssl.SSLError):
        await fetch(server.https_port, sni=sni, cafile=cafile)


async def test_certificates_load_lazily_and_are_reused(
    store: CertificateStore, hosting: FakeHosting, ca: LabCA, cafile: Path
) -> None:
    """Many indexed names cost no context at start; each is built on first use and then reused."""
    now = dt.datetime.now(dt.UTC)
    issued = ca.issue("mta-sts.bulk.example")
    for index in range(200):
        await store.save_certificate(new_certificate(f"mta-sts.d{index}.example", issued), now)
    async with make_server(store, hosting) as server:
        assert (len(server.contexts), server.contexts.built) == (202, 0)
        for _ in range(3):
            assert (await fetch(server.https_port, sni=A, cafile=cafile)).status == 200
        assert server.contexts.built == 1
        assert (await fetch(server.https_port, sni=B, cafile=cafile)).status == 200
        assert (server.contexts.built, server.contexts.cached) == (2, 2)


async def test_context_cache_is_bounded(
    store: CertificateStore, hosting: FakeHosting, cafile: Path
) -> None:
    """With room for one context, alternating names rebuild and only one context is held."""
    async with make_server(store, hosting, capacity=1) as server:
        for name in (A, B, A):
            assert (await fetch(server.https_port, sni=name, cafile=cafile)).status == 200
        assert (server.contexts.built, server.contexts.cached) == (3, 1)


async def test_replaced_certificate_is_served_after_refresh(
    server: PolicyServer, store: CertificateStore, ca: LabCA, cafile: Path
) -> None:
    """A renewed certificate in storage is presented on the first handshake after a refresh."""
    before = await peer_certificate_serial(server.https_port, A, cafile)
    renewed = ca.issue(A)
    await store.save_certificate(new_certificate(A, renewed), dt.datetime.now(dt.UTC))
    await server.refresh()
    after = await peer_certificate_serial(server.https_port, A, cafile)
    assert before != after
    assert (await fetch(server.https_port, sni=A, cafile=cafile)).body == POLICY_A


async def test_certificate_issued_after_start_is_served_after_refresh(
    server: PolicyServer, store: CertificateStore, ca: LabCA, cafile: Path
) -> None:
    """A name that gets its first certificate is served once the index is refreshed."""
    issued = ca.issue(UNCERTIFIED)
    await store.save_certificate(new_certificate(UNCERTIFIED, issued), dt.datetime.now(dt.UTC))
    await server.refresh()
    response = await fetch(server.https_port, sni=UNCERTIFIED, cafile=cafile)
    assert response.status == 200


async def test_keep_alive_serves_several_requests(server: PolicyServer, cafile: Path) -> None:
    """Several requests on one connection each get the policy."""
    reader, writer = await open_tls(server.https_port, A, cafile)
    try:
        for _ in range(3):
            writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, []))
            assert (await read_response(reader)).body == POLICY_A
    finally:
        writer.close()


class BrokenStorage:
    """Certificate storage whose index works but whose certificate reads fail."""

    def __init__(self, store: CertificateStore) -> None:
        self._store = store

    async def versions(self) -> dict[str, int]:
        return await self._store.versions()

    async def certificate(self, name: str) -> None:
        raise RuntimeError("database unreachable")

    async def challenge(self, token: str, now: object) -> None:
        return None


async def test_storage_failure_during_handshake_closes_only_that_connection(
    store: CertificateStore, hosting: FakeHosting, cafile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A certificate that cannot be read ends that handshake; the server keeps serving."""
    server = make_server(store, hosting)
    server.contexts._source = BrokenStorage(store)
    async with server:
        for _ in range(2):
            with pytest.raises((ssl.SSLError, ConnectionError)):
                await fetch(server.https_port, sni=A, cafile=cafile)
    assert "database unreachable" in caplog.text


async def test_pipelined_requests_are_answered_in_order(server: PolicyServer, cafile: Path) -> None:
    """Two requests sent in one write get two answers, in order, on the same connection."""
    reader, writer = await open_tls(server.https_port, A, cafile)
    try:
        writer.write(
            request_bytes("GET", "/.well-known/mta-sts.txt", A, [])
            + request_bytes("GET", "/missing", A, [("Connection", "close")])
        )
        received = await until_closed(reader)
        first, second = received.split(b"HTTP/1.1 ")[1:]
        assert first.startswith(b"200 OK")
        assert first.endswith(POLICY_A)
        assert second.startswith(b"404 Not Found")
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("host", "extra"),
    [
        pytest.param(None, [], id="http-1.0"),
        pytest.param(A, [("Connection", "close")], id="connection-close"),
    ],
)
async def test_client_asking_to_close_gets_one_answer(
    server: PolicyServer, cafile: Path, host: str | None, extra: list[tuple[str, str]]
) -> None:
    """HTTP/1.0 or ``Connection: close`` ends the connection after the response."""
    reader, writer = await open_tls(server.https_port, A, cafile)
    try:
        writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", host, extra))
        response = await read_response(reader)
        assert response.headers["connection"] == "close"
        assert await until_closed(reader) == b""
    finally:
        writer.close()


class FailingPolicies:
    """A policy source whose storage is unreachable."""

    async def policy_for(self, host: str) -> bytes | None:
        raise RuntimeError("database unreachable")


async def test_policy_source_failure_gives_503(
    store: CertificateStore, hosting: FakeHosting, cafile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """When policies cannot be read the answer is 503 and the connection is closed."""
    server = make_server(store, hosting)
    server._policies = FailingPolicies()
    async with server:
        reader, writer = await open_tls(server.https_port, A, cafile)
        try:
            writer.write(request_bytes("GET", "/.well-known/mta-sts.txt", A, []))
            response = await read_response(reader)
            assert (response.status, response.headers["connection"]) == (503, "close")
            assert await until_closed(reader) == b""
        finally:
            writer.close()
    assert "database unreachable" in caplog.text


async def test_acme_tls_hello_without_a_pending_challenge_is_refused(
    server: PolicyServer, store: CertificateStore, cafile: Path
) -> None:
    """Offering only acme-tls/1 gets no certificate unless a key authorization is pending."""
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["acme-tls/1"])
    with pytest.raises(ssl.SSLError):
        await asyncio.open_connection(
            "127.0.0.1", server.https_port, ssl=context, server_hostname=A
        )
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    await store.put_challenge("tok", A, "tok.print", expires)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.https_port, ssl=context, server_hostname=A
    )
    try:
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "acme-tls/1"
        assert await until_closed(reader) == b""
    finally:
        writer.close()
