"""The lab MTA-STS policy host: every behaviour as httpx, http.client and ssl clients see it,
connecting by IP with the site name as SNI."""

from __future__ import annotations

import asyncio
import http.client
import logging
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from mailshield.lab.behaviours import PolicyBehaviour
from mailshield.lab.ca import LabCA
from mailshield.lab.policy_host import LabPolicyServer, PolicySite
from mailshield.lab.policy_responses import OVERSIZE_BYTES, POLICY_PATH, REDIRECT_TARGET
from mailshield.lab.tls import WRONG_NAME, BehaviourCertificates

ADDRESS = "127.0.2.10"
SITE = "mta-sts.a.test"
POLICY_LF = b"version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 86400\n"
POLICY_CRLF = POLICY_LF.replace(b"\n", b"\r\n")
SHORT = 0.3  # seconds a client waits for something that must not come


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture(scope="module")
def ca_file(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ca.write_root(tmp_path_factory.mktemp("policy-ca") / "ca.pem")


@pytest.fixture(scope="module")
def certs(ca: LabCA) -> BehaviourCertificates:
    return BehaviourCertificates(ca)


def site(
    certs: BehaviourCertificates,
    behaviour: PolicyBehaviour,
    name: str = SITE,
    policy: bytes = POLICY_LF,
) -> PolicySite:
    """A site with the certificate its behaviour calls for."""
    return PolicySite(name, behaviour, policy, certs.for_policy(behaviour, [name]))


@asynccontextmanager
async def serving(
    *sites: PolicySite, address: str = ADDRESS, port: int = 0, **options: Any
) -> AsyncIterator[LabPolicyServer]:
    async with LabPolicyServer(address, sites, port=port, **options) as server:
        yield server


@asynccontextmanager
async def client(ca_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca_file)) as http:
        yield http


async def get(
    http: httpx.AsyncClient, server: LabPolicyServer, name: str = SITE, path: str = POLICY_PATH
) -> httpx.Response:
    """GET ``path`` from site ``name``, connecting to the server's IP with ``name`` as SNI/Host."""
    return await http.get(
        f"https://{server.address}:{server.port}{path}",
        headers={"host": name},
        extensions={"sni_hostname": name},
    )


def handshake(server: LabPolicyServer, ca_file: Path | None, name: str | None) -> ssl.SSLSocket:
    """A TLS connection by IP with ``name`` as SNI; verifying against ``ca_file`` when given."""
    if ca_file is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=ca_file)
    raw = socket.create_connection((server.address, server.port), timeout=10)
    try:
        return context.wrap_socket(raw, server_hostname=name)
    except BaseException:
        raw.close()
        raise


def peer_names(server: LabPolicyServer, name: str | None) -> set[str]:
    """The DNS names on the certificate presented for SNI ``name``."""
    with handshake(server, None, name) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    return set(san.value.get_values_for_type(x509.DNSName))


@pytest.mark.parametrize(
    "policy", [pytest.param(POLICY_LF, id="lf"), pytest.param(POLICY_CRLF, id="crlf")]
)
async def test_valid_serves_the_policy_byte_for_byte(
    certs: BehaviourCertificates, ca_file: Path, policy: bytes
) -> None:
    """A valid site answers 200 text/plain with exactly the policy bytes, line endings kept."""
    async with (
        serving(site(certs, PolicyBehaviour.VALID, policy=policy)) as server,
        client(ca_file) as http,
    ):
        response = await get(http, server)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == policy


@pytest.mark.parametrize(
    ("behaviour", "status", "content_type"),
    [
        pytest.param(PolicyBehaviour.NOT_FOUND, 404, "text/plain", id="not-found"),
        pytest.param(PolicyBehaviour.SERVER_ERROR, 500, "text/plain", id="server-error"),
        pytest.param(PolicyBehaviour.HTML, 200, "text/html", id="html"),
    ],
)
async def test_status_and_media_type_faults(
    certs: BehaviourCertificates,
    ca_file: Path,
    behaviour: PolicyBehaviour,
    status: int,
    content_type: str,
) -> None:
    """404, 500 and text/html behaviours answer with that status and media type."""
    async with (
        serving(site(certs, behaviour)) as server,
        client(ca_file) as http,
    ):
        response = await get(http, server)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)


async def test_redirect_points_to_a_valid_policy_on_the_same_server(
    certs: BehaviourCertificates, ca_file: Path
) -> None:
    """A redirect site answers 301 with a Location on the same site that serves the policy."""
    async with (
        serving(site(certs, PolicyBehaviour.REDIRECT)) as server,
        client(ca_file) as http,
    ):
        response = await get(http, server)
        target = await get(http, server, path=REDIRECT_TARGET)
        location = f"https://{SITE}:{server.port}{REDIRECT_TARGET}"
    assert (response.status_code, response.headers["location"]) == (301, location)
    assert (target.status_code, target.content) == (200, POLICY_LF)


async def test_oversize_body_is_over_64_kib(certs: BehaviourCertificates, ca_file: Path) -> None:
    """An oversize site sends a 200 body longer than 65536 bytes that starts with the policy."""
    async with (
        serving(site(certs, PolicyBehaviour.OVERSIZE)) as server,
        client(ca_file) as http,
    ):
        response = await get(http, server)
    assert response.status_code == 200
    assert len(response.content) > 65536
    assert len(response.content) >= OVERSIZE_BYTES
    assert response.content.startswith(POLICY_LF)


async def test_slow_body_trickles(certs: BehaviourCertificates, ca_file: Path) -> None:
    """A slow site sends its headers, then less than the whole body within a short wait."""
    received = b""
    async with (
        serving(site(certs, PolicyBehaviour.SLOW), trickle_interval=0.5) as server,
        client(ca_file) as http,
    ):
        request = http.build_request(
            "GET",
            f"https://{server.address}:{server.port}{POLICY_PATH}",
            headers={"host": SITE},
            extensions={"sni_hostname": SITE},
        )
        response = await http.send(request, stream=True)
        try:
            async with asyncio.timeout(SHORT):
                async for chunk in response.aiter_raw():
                    received += chunk
        except TimeoutError:
            pass
        await response.aclose()
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(POLICY_LF)
    assert len(received) < len(POLICY_LF)


async def test_slow_body_ends(certs: BehaviourCertificates, ca_file: Path) -> None:
    """A trickled body is bounded: it arrives completely in the end."""
    async with (
        serving(site(certs, PolicyBehaviour.SLOW), trickle_interval=0.001) as server,
        client(ca_file) as http,
    ):
        response = await get(http, server)
    assert response.content == POLICY_LF


async def test_wrong_cert_fails_hostname_verification(
    certs: BehaviourCertificates, ca_file: Path
) -> None:
    """A wrong_cert site presents a certificate for another name: a hostname mismatch."""
    async with serving(site(certs, PolicyBehaviour.WRONG_CERT)) as server:
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            await asyncio.to_thread(handshake, server, ca_file, SITE)
        names = await asyncio.to_thread(peer_names, server, SITE)
    assert "Hostname mismatch" in str(caught.value.verify_message)
    assert names == {WRONG_NAME}


async def test_sni_selects_the_certificate_per_site(certs: BehaviourCertificates) -> None:
    """Each SNI name gets its own site's certificate; no or unknown SNI gets the first site's."""
    first, second = "mta-sts.a.test", "mta-sts.b.test"
    sites = (site(certs, PolicyBehaviour.VALID, first), site(certs, PolicyBehaviour.VALID, second))
    async with serving(*sites) as server:
        seen = {
            sni: await asyncio.to_thread(peer_names, server, sni)
            for sni in (first, second, "mta-sts.unknown.test", None)
        }
    assert seen == {
        first: {first},
        second: {second},
        "mta-sts.unknown.test": {first},
        None: {first},
    }


async def test_sites_can_share_one_certificate(certs: BehaviourCertificates, ca_file: Path) -> None:
    """Many sites served from one certificate with a SAN each all verify."""
    names = [f"mta-sts.d{index:04d}.test" for index in range(100)]
    shared = certs.for_policy(PolicyBehaviour.VALID, names)
    sites = [PolicySite(name, PolicyBehaviour.VALID, POLICY_LF, shared) for name in names]
    async with (
        serving(*sites) as server,
        client(ca_file) as http,
    ):
        responses = [await get(http, server, name) for name in (names[0], names[-1])]
    assert [response.status_code for response in responses] == [200, 200]


@pytest.mark.parametrize(
    ("host", "method", "path", "status"),
    [
        pytest.param("mta-sts.unknown.test", "GET", POLICY_PATH, 404, id="unknown-site"),
        pytest.param(SITE, "GET", "/", 404, id="unknown-path"),
        pytest.param(SITE, "GET", REDIRECT_TARGET, 404, id="redirect-target-only-for-redirect"),
        pytest.param(SITE, "POST", POLICY_PATH, 405, id="post"),
        pytest.param(f"{SITE}:8443", "GET", POLICY_PATH, 200, id="host-with-port"),
        pytest.param(f"{SITE}.", "GET", f"{POLICY_PATH}?x=1", 200, id="trailing-dot-and-query"),
    ],
)
async def test_routing_by_host_and_path(
    certs: BehaviourCertificates, ca_file: Path, host: str, method: str, path: str, status: int
) -> None:
    """The Host header (port and final dot ignored) picks the site; other names and paths 404."""
    async with (
        serving(site(certs, PolicyBehaviour.VALID)) as server,
        client(ca_file) as http,
    ):
        response = await http.request(
            method,
            f"https://{server.address}:{server.port}{path}",
            headers={"host": host},
            extensions={"sni_hostname": SITE},
        )
    assert response.status_code == status


async def test_requests_are_counted_per_site(certs: BehaviourCertificates, ca_file: Path) -> None:
    """Each request to a known site increments that site's counter and no other."""
    first, second = "mta-sts.a.test", "mta-sts.b.test"
    sites = (
        site(certs, PolicyBehaviour.VALID, first),
        site(certs, PolicyBehaviour.NOT_FOUND, second),
    )
    async with (
        serving(*sites) as server,
        client(ca_file) as http,
    ):
        for name in (first, first, first, second, "mta-sts.unknown.test"):
            await get(http, server, name)
    assert (server.requests_for(first), server.requests_for(second)) == (3, 1)
    assert server.total_requests == 4


async def test_keep_alive_serves_several_requests_per_connection(
    certs: BehaviourCertificates, ca_file: Path
) -> None:
    """Two requests on one TLS connection (http.client) both get the policy."""

    def two_requests(server: LabPolicyServer) -> list[tuple[int, bytes]]:
        connection = http.client.HTTPConnection(server.address, server.port, timeout=10)
        connection.sock = handshake(server, ca_file, SITE)
        sock = connection.sock
        results = []
        with connection.sock:
            for _ in range(2):
                connection.request("GET", POLICY_PATH, headers={"Host": SITE})
                response = connection.getresponse()
                results.append((response.status, response.read()))
            assert connection.sock is sock
        return results

    async with serving(site(certs, PolicyBehaviour.VALID)) as server:
        results = await asyncio.to_thread(two_requests, server)
    assert results == [(200, POLICY_LF), (200, POLICY_LF)]
    assert server.requests_for(SITE) == 2


async def test_malformed_request_gets_400(certs: BehaviourCertificates, ca_file: Path) -> None:
    """A request h11 cannot parse is answered 400 and the connection closed."""

    def send_garbage(server: LabPolicyServer) -> bytes:
        with handshake(server, ca_file, SITE) as tls:
            tls.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            received = b""
            while chunk := tls.recv(4096):
                received += chunk
            return received

    async with serving(site(certs, PolicyBehaviour.VALID)) as server:
        answer = await asyncio.to_thread(send_garbage, server)
    assert answer.startswith(b"HTTP/1.1 400 ")


async def test_ipv6_loopback(certs: BehaviourCertificates, ca_file: Path) -> None:
    """A server bound to ::1 serves the policy like one on IPv4."""
    async with (
        serving(site(certs, PolicyBehaviour.VALID), address="::1") as server,
        client(ca_file) as http,
    ):
        response = await http.get(
            f"https://[::1]:{server.port}{POLICY_PATH}",
            headers={"host": SITE},
            extensions={"sni_hostname": SITE},
        )
    assert response.content == POLICY_LF


async def test_no_listener_does_not_listen(certs: BehaviourCertificates) -> None:
    """A server made of no_listener sites starts without listening: connections are refused."""
    silent = site(certs, PolicyBehaviour.NO_LISTENER)
    async with serving(silent, address="127.0.2.98", port=8443) as server:
        assert not server.listening
        with pytest.raises(ConnectionRefusedError):
            await asyncio.to_thread(socket.create_connection, ("127.0.2.98", 8443), SHORT)


async def test_stop_ends_a_trickling_response(
    certs: BehaviourCertificates, ca_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping the server closes a connection in the middle of a slow body, logging no error."""
    async with client(ca_file) as http:
        async with serving(site(certs, PolicyBehaviour.SLOW), trickle_interval=3600) as server:
            request = http.build_request(
                "GET",
                f"https://{server.address}:{server.port}{POLICY_PATH}",
                headers={"host": SITE},
                extensions={"sni_hostname": SITE},
            )
            response = await http.send(request, stream=True)
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()
        await response.aclose()
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        pytest.param((), "at least one site", id="no-sites"),
        pytest.param(
            (PolicySite(SITE, PolicyBehaviour.VALID, POLICY_LF),),
            "needs a certificate",
            id="no-cert",
        ),
        pytest.param(
            (PolicySite(SITE, PolicyBehaviour.NO_LISTENER), PolicySite("mta-sts.b.test")),
            "address of their own",
            id="mixed-no-listener",
        ),
        pytest.param(
            (
                PolicySite(SITE, PolicyBehaviour.NO_LISTENER),
                PolicySite(SITE.upper(), PolicyBehaviour.NO_LISTENER),
            ),
            "distinct",
            id="duplicate-names",
        ),
    ],
)
def test_invalid_site_lists_are_rejected(sites: tuple[PolicySite, ...], message: str) -> None:
    """Site lists that cannot be served fail at construction with a clear message."""
    with pytest.raises(ValueError, match=message):
        LabPolicyServer(ADDRESS, sites, port=0)
