"""Pebble as a lab daemon: verified HTTPS API, deterministic settings, HTTP-01 issuance."""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import json
import os
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from acme import challenges, crypto_util, messages
from acme import client as acme_client
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from josepy.jwk import JWKRSA
from tests.integration.lab.dns_stub import StubDns
from tests.support.lab import require_binary

from mailshield.lab.ca import LabCA
from mailshield.lab.endpoint import Endpoint, loopback
from mailshield.lab.pebble import Pebble

pytestmark = pytest.mark.lab

PEBBLE_HOST = "127.0.3.7"
WEB_HOST = "127.0.3.8"
DNS_HOST = "127.0.3.9"
NAME = "www.acme.test"

ZONE = f"""$TTL 60
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
ns1  A   {DNS_HOST}
www  A   {WEB_HOST}
"""


class Http01Responder(http.server.ThreadingHTTPServer):
    """Serves HTTP-01 key authorizations (RFC 8555 §8.3) from a dict of path -> body."""

    daemon_threads = True

    def __init__(self, listen: Endpoint) -> None:
        super().__init__(listen, _Http01Handler)
        self.bodies: dict[str, bytes] = {}
        self.requests: list[str] = []


class _Http01Handler(http.server.BaseHTTPRequestHandler):
    server: Http01Responder

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = self.server.bodies.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def responder() -> Iterator[Http01Responder]:
    """The HTTP-01 responder on the address ``www.acme.test`` resolves to."""
    server = Http01Responder(loopback(WEB_HOST))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def pebble(
    responder: Http01Responder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pebble]:
    """Pebble resolving through a stub for ``acme.test`` and validating on the responder's port."""
    require_binary("pebble")
    with (
        StubDns(loopback(DNS_HOST), "acme.test", ZONE) as dns_server,
        Pebble(
            LabCA(),
            dns_server=dns_server.listen,
            api=loopback(PEBBLE_HOST),
            http01_port=responder.server_address[1],
            workdir=tmp_path_factory.mktemp("pebble"),
        ) as server,
    ):
        yield server


def https_get(endpoint: Endpoint, path: str, cafile: Path) -> tuple[int, bytes]:
    """GET over HTTPS to an IP, verifying the server against ``cafile``."""
    context = ssl.create_default_context(cafile=str(cafile))
    connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, context=context)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_directory_answers_over_https_verified_by_the_lab_ca(pebble: Pebble) -> None:
    """The ACME directory (RFC 8555 §7.1.1) is served over HTTPS that the lab CA verifies."""
    status, body = https_get(pebble.api, "/dir", pebble.ca_bundle)
    assert status == 200
    assert {"newAccount", "newNonce", "newOrder"} <= json.loads(body).keys()
    assert pebble.directory_url == f"https://{PEBBLE_HOST}:{pebble.api.port}/dir"


def test_api_is_not_trusted_without_the_lab_ca(pebble: Pebble, tmp_path: Path) -> None:
    """A client trusting another CA refuses Pebble's API certificate."""
    stranger = LabCA("another root").write_root(tmp_path / "other.pem")
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(pebble.api, "/dir", stranger)


def test_root_and_intermediate_are_served(pebble: Pebble) -> None:
    """The management API gives this run's root and the intermediate it signed."""
    root = x509.load_pem_x509_certificate(pebble.root_pem())
    intermediate = x509.load_pem_x509_certificate(pebble.intermediate_pem())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    intermediate.verify_directly_issued_by(root)


def test_pebble_runs_deterministically(pebble: Pebble) -> None:
    """No validation sleep, no nonce rejection, no authorization reuse (lab-notes settings)."""
    environ = Path(f"/proc/{pebble.pid}/environ").read_bytes().split(b"\0")
    for setting in (b"PEBBLE_VA_NOSLEEP=1", b"PEBBLE_WFE_NONCEREJECT=0", b"PEBBLE_AUTHZREUSE=0"):
        assert setting in environ


def new_client(pebble: Pebble) -> tuple[acme_client.ClientV2, JWKRSA]:
    """An ACME client with a fresh registered account, trusting the lab CA for the API."""
    key = JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    # verify_ssl is handed to requests as ``verify``, which also takes a CA bundle path.
    ca_path: bool = str(pebble.ca_bundle)  # type: ignore[assignment]
    net = acme_client.ClientNetwork(key, user_agent="mailshield-lab-test", verify_ssl=ca_path)
    directory = acme_client.ClientV2.get_directory(pebble.directory_url, net)
    client = acme_client.ClientV2(directory, net=net)
    client.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
    return client, key


def certificate_key_pem() -> bytes:
    """A fresh P-256 private key for the certificate, as PEM."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_http01_issuance_end_to_end(pebble: Pebble, responder: Http01Responder) -> None:
    """An order for a lab name is validated over HTTP-01 and issues a chain to Pebble's root."""
    client, account_key = new_client(pebble)
    order = client.new_order(crypto_util.make_csr(certificate_key_pem(), [NAME]))
    for authorization in order.authorizations:
        challenge = next(
            c for c in authorization.body.challenges if isinstance(c.chall, challenges.HTTP01)
        )
        response, validation = challenge.response_and_validation(account_key)
        responder.bodies[challenge.chall.path] = validation.encode()
        client.answer_challenge(challenge, response)
    deadline = dt.datetime.now() + dt.timedelta(seconds=60)
    done = client.poll_and_finalize(order, deadline)

    leaf, intermediate = x509.load_pem_x509_certificates(done.fullchain_pem.encode())[:2]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [NAME]
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(x509.load_pem_x509_certificate(pebble.root_pem()))
    assert set(responder.bodies) <= set(responder.requests)


def test_stop_leaves_no_process(responder: Http01Responder, tmp_path: Path) -> None:
    """After stop the pebble PID is gone and its log remains."""
    require_binary("pebble")
    with Pebble(LabCA(), dns_server=loopback(DNS_HOST, 53), workdir=tmp_path) as server:
        pid = server.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert server.log_path.exists()
