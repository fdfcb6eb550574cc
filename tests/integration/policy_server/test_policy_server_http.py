"""The policy server's plain HTTP side: ACME HTTP-01 tokens, /tls/ask, 404 for the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from tests.integration.policy_server.client import POLICY_PATH, fetch_plain
from tests.integration.policy_server.conftest import POLICY_A, A, make_server
from tests.support.hosting_fakes import FakeHosting

from mailshield.interfaces.policy_server import PolicyServer
from mailshield.storage.certificates import CertificateStore

TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"


async def test_challenge_token_is_served_from_storage(
    server: PolicyServer, store: CertificateStore
) -> None:
    """A key authorization published in storage is answered on the ACME path (RFC 8555 §8.3)."""
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    await store.put_challenge(TOKEN, A, f"{TOKEN}.thumbprint", expires)
    assert server.http_port is not None
    response = await fetch_plain(server.http_port, f"/.well-known/acme-challenge/{TOKEN}")
    assert (response.status, response.body) == (200, f"{TOKEN}.thumbprint".encode())


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/.well-known/acme-challenge/unknown", 404, id="unknown-token"),
        pytest.param("GET", "/.well-known/acme-challenge/../etc", 404, id="not-a-token"),
        pytest.param("GET", "/.well-known/mta-sts.txt", 404, id="policy-over-http"),
        pytest.param("GET", "/", 404, id="root"),
        pytest.param("POST", f"/.well-known/acme-challenge/{TOKEN}", 405, id="post"),
    ],
)
async def test_http_side_serves_nothing_else(
    server: PolicyServer, method: str, path: str, status: int
) -> None:
    """Plain HTTP never serves a policy or redirects: 404 (or 405 for writes to the ACME path)."""
    assert server.http_port is not None
    response = await fetch_plain(server.http_port, path, method=method)
    assert response.status == status
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("domain", "status"),
    [
        pytest.param(A, 200, id="hosted"),
        pytest.param("MTA-STS.A.EXAMPLE.", 200, id="canonical-form"),
        pytest.param("mta-sts.d.example", 404, id="refused-by-gate"),
        pytest.param("mta-sts.stranger.example", 404, id="not-onboarded"),
        pytest.param("", 404, id="empty"),
    ],
)
async def test_tls_ask_answers_from_the_gate_snapshot(
    server: PolicyServer, hosting: FakeHosting, domain: str, status: int
) -> None:
    """/tls/ask is 200 only for names the gate let through at the last refresh, with no I/O."""
    asked_before = len(hosting.gate_questions)
    assert server.http_port is not None
    response = await fetch_plain(server.http_port, f"/tls/ask?domain={domain}")
    assert response.status == status
    assert len(hosting.gate_questions) == asked_before


async def test_tls_ask_follows_the_gate_after_refresh(
    server: PolicyServer, hosting: FakeHosting
) -> None:
    """A name the gate starts to allow is allowed by /tls/ask after the next refresh."""
    assert server.http_port is not None
    path = "/tls/ask?domain=mta-sts.d.example"
    assert (await fetch_plain(server.http_port, path)).status == 404
    del hosting.refusals["mta-sts.d.example"]
    await server.refresh()
    assert (await fetch_plain(server.http_port, path)).status == 200


async def test_tls_ask_is_absent_without_a_snapshot(
    store: CertificateStore, hosting: FakeHosting
) -> None:
    """A server built without the gate snapshot answers /tls/ask with 404."""
    server = make_server(store, hosting)
    server._ask = None  # as when assembled without a gate
    async with server:
        assert server.http_port is not None
        response = await fetch_plain(server.http_port, f"/tls/ask?domain={A}")
        assert response.status == 404


async def test_proxy_port_serves_policies_by_host(
    store: CertificateStore, hosting: FakeHosting
) -> None:
    """Behind a TLS-terminating proxy the Host header picks the tenant; other paths stay 404."""
    server = make_server(store, hosting)
    server.config = dataclasses.replace(server.config, proxy_port=0)
    async with server:
        assert server.proxy_port is not None
        response = await fetch_plain(server.proxy_port, POLICY_PATH, host=f"{A}:443")
        assert (response.status, response.body) == (200, POLICY_A)
        assert (await fetch_plain(server.proxy_port, "/", host=A)).status == 404
        unknown = await fetch_plain(server.proxy_port, POLICY_PATH, host="mta-sts.x.example")
        assert unknown.status == 404
