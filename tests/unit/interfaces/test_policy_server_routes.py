"""Routing of policy-server requests: tenant by SNI and Host, statuses, ACME and /tls/ask."""

from __future__ import annotations

import pytest
from tests.support.hosting_fakes import FakeHosting, policy_body

from mailshield.interfaces.policy_server_routes import (
    Request,
    host_name,
    http_reply,
    policy_reply,
)

A = "mta-sts.a.example"
POLICY = policy_body()


@pytest.fixture
def hosting() -> FakeHosting:
    """One hosted policy host, A."""
    fake = FakeHosting()
    fake.host(A, POLICY)
    return fake


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("mta-sts.a.example", A, id="plain"),
        pytest.param("MTA-STS.A.EXAMPLE:8443", A, id="case-and-port"),
        pytest.param(" mta-sts.a.example. ", A, id="spaces-and-dot"),
        pytest.param("[::1]:443", "[::1]", id="ipv6-literal"),
        pytest.param("", "", id="empty"),
    ],
)
def test_host_header_is_canonicalised(header: str, expected: str) -> None:
    """Host is compared without case, port or final dot (RFC 9110 §7.2)."""
    assert host_name(header) == expected


@pytest.mark.parametrize(
    ("method", "target", "host", "status"),
    [
        pytest.param("GET", "/.well-known/mta-sts.txt", A, 200, id="get"),
        pytest.param("HEAD", "/.well-known/mta-sts.txt", A, 200, id="head"),
        pytest.param("GET", "/.well-known/mta-sts.txt?x=1", A, 200, id="query-ignored"),
        pytest.param("GET", "/.well-known/mta-sts.txt", "mta-sts.b.example", 404, id="other-host"),
        pytest.param("GET", "/other", A, 404, id="other-path"),
        pytest.param("POST", "/.well-known/mta-sts.txt", A, 405, id="post"),
        pytest.param("POST", "/other", A, 404, id="post-other-path"),
        pytest.param(
            "DELETE", "/.well-known/mta-sts.txt", "x.example", 404, id="delete-other-host"
        ),
    ],
)
async def test_policy_routes(
    hosting: FakeHosting, method: str, target: str, host: str, status: int
) -> None:
    """Host, then path, then method decide the status; only 200 carries the policy."""
    reply = await policy_reply(Request(method, target, host), A, hosting)
    assert reply.status == status
    assert (reply.body == POLICY) == (status == 200)


async def test_other_tenant_is_not_even_looked_up(hosting: FakeHosting) -> None:
    """A Host/SNI mismatch is refused before any policy is fetched."""
    hosting.host("mta-sts.b.example")
    await policy_reply(Request("GET", "/.well-known/mta-sts.txt", "mta-sts.b.example"), A, hosting)
    assert hosting.policy_requests == []


async def _challenges(token: str) -> str | None:
    return {"tok-1_A": "tok-1_A.print"}.get(token)


@pytest.mark.parametrize(
    ("method", "target", "status", "body"),
    [
        pytest.param(
            "GET", "/.well-known/acme-challenge/tok-1_A", 200, b"tok-1_A.print", id="token"
        ),
        pytest.param("GET", "/.well-known/acme-challenge/tok-2", 404, None, id="unknown-token"),
        pytest.param("GET", "/.well-known/acme-challenge/a/b", 404, None, id="bad-token"),
        pytest.param("GET", "/.well-known/acme-challenge/", 404, None, id="empty-token"),
        pytest.param("GET", "/tls/ask?domain=mta-sts.a.example", 200, b"ok\n", id="ask-yes"),
        pytest.param("GET", "/tls/ask?domain=mta-sts.b.example", 404, None, id="ask-no"),
        pytest.param("GET", "/tls/ask", 404, None, id="ask-without-domain"),
        pytest.param("GET", "/tls/ask?" + "a=1&" * 10, 404, None, id="ask-too-many-fields"),
        pytest.param("PUT", "/tls/ask?domain=mta-sts.a.example", 405, None, id="ask-put"),
        pytest.param("GET", "/.well-known/mta-sts.txt", 404, None, id="policy-path"),
    ],
)
async def test_http_routes(method: str, target: str, status: int, body: bytes | None) -> None:
    """The plain HTTP side answers tokens and the ask question, nothing else."""
    reply = await http_reply(Request(method, target, A), _challenges, lambda name: name == A)
    assert reply.status == status
    if body is not None:
        assert reply.body == body
