"""Tenant isolation on every ``/api/v1`` route: Bob can neither read nor change Ada's things.

The table below names every route of the API; a test checks the table against the application,
so a new route cannot be added without stating what a second tenant gets from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import Tenant, World


@dataclass(frozen=True)
class Probe:
    """Bob's attempt on one route, given Ada's ids; ``status`` is what he must get."""

    method: str
    route: str
    status: int
    body: dict[str, Any] | None = None


PROBES = [
    Probe("GET", "/api/v1/account", 200),
    Probe("GET", "/api/v1/tokens", 200),
    Probe("POST", "/api/v1/tokens", 201, {"name": "bob's"}),
    Probe("DELETE", "/api/v1/tokens/{token_id}", 404),
    Probe("GET", "/api/v1/domains", 200),
    Probe("POST", "/api/v1/domains", 201, {"name": "example.com"}),
    Probe("GET", "/api/v1/domains/{domain_id}", 404),
    Probe("DELETE", "/api/v1/domains/{domain_id}", 404),
    Probe("POST", "/api/v1/domains/{domain_id}/verification", 404),
    Probe("GET", "/api/v1/domains/{domain_id}/checks", 404),
    Probe("POST", "/api/v1/domains/{domain_id}/checks", 404),
    Probe("GET", "/api/v1/domains/{domain_id}/checks/{check_id}", 404),
    Probe("POST", "/api/v1/checks", 201, {"domain": "example.com"}),
    Probe("GET", "/api/v1/domains/{domain_id}/hosting", 404),
    Probe("POST", "/api/v1/domains/{domain_id}/hosting", 404),
    Probe("POST", "/api/v1/domains/{domain_id}/hosting/mode", 404, {"mode": "enforce"}),
    Probe("PATCH", "/api/v1/domains/{domain_id}/hosting/policy", 404, {"max_age": 86400}),
    Probe("POST", "/api/v1/domains/{domain_id}/hosting/verification", 404),
    Probe("DELETE", "/api/v1/domains/{domain_id}/hosting", 404),
    Probe("GET", "/api/v1/domains/{domain_id}/reports/summary", 404),
    Probe("GET", "/api/v1/domains/{domain_id}/reports/readiness", 404),
    Probe("GET", "/api/v1/domains/{domain_id}/reports/quarantine", 404),
    Probe("GET", "/api/v1/domains/{domain_id}/reports/quarantine/{raw_id}", 404),
    Probe("POST", "/api/v1/domains/{domain_id}/reports/quarantine/{raw_id}/reprocess", 404),
]


@dataclass
class AdaThings:
    domain_id: int
    check_id: int
    token_id: int
    raw_id: int
    snapshot: dict[str, Any]


async def ada_things(world: World, ada: Tenant) -> AdaThings:
    client, headers = world.client, ada.headers
    domain = (
        await client.post("/api/v1/domains", json={"name": "example.com"}, headers=headers)
    ).json()
    # Ada's domain is verified and hosted, so every route has something of hers to protect.
    txt = next(r for r in domain["ownership"]["records"] if r["type"] == "TXT")
    world.zone["_mailshield.example.com TXT"] = [txt["value"]]
    world.zone["example.com MX"] = ["10 mx.example.com."]
    world.zone["mx.example.com A"] = ["192.0.2.25"]
    path = f"/api/v1/domains/{domain['id']}"
    assert (await client.post(f"{path}/verification", headers=headers)).status_code == 200
    assert (await client.post(f"{path}/hosting", headers=headers)).status_code == 201
    check = (await client.post(f"/api/v1/domains/{domain['id']}/checks", headers=headers)).json()
    tokens = (await client.get("/api/v1/tokens", headers=headers)).json()["items"]
    raw_id = await quarantine_for(world, "example.com")
    return AdaThings(domain["id"], check["id"], tokens[0]["id"], raw_id, await snapshot(world, ada))


async def quarantine_for(world: World, domain: str) -> int:
    """A broken report POSTed to /tlsrpt/<domain>, kept in quarantine for that domain."""
    response = await world.client.post(
        f"/tlsrpt/{domain}", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 202, response.text
    raw_id: int = response.json()["raw"]
    return raw_id


async def snapshot(world: World, tenant: Tenant) -> dict[str, Any]:
    """Everything a tenant can see of their own things."""
    client, headers = world.client, tenant.headers
    domains = (await client.get("/api/v1/domains", headers=headers)).json()["items"]
    return {
        "account": (await client.get("/api/v1/account", headers=headers)).json(),
        "domains": domains,
        "checks": [
            (await client.get(f"/api/v1/domains/{d['id']}/checks", headers=headers)).json()
            for d in domains
        ],
        "hosting": [
            (await client.get(f"/api/v1/domains/{d['id']}/hosting", headers=headers)).json()
            for d in domains
        ],
        "quarantine": [
            (
                await client.get(f"/api/v1/domains/{d['id']}/reports/quarantine", headers=headers)
            ).json()
            for d in domains
        ],
        "tokens": [
            {k: v for k, v in t.items() if k != "last_used_at"}
            for t in (await client.get("/api/v1/tokens", headers=headers)).json()["items"]
        ],
    }


def test_the_table_names_every_api_route(world: World) -> None:
    """Every /api/v1 route of the application has a probe, and every probe a route."""
    paths = world.app.openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
    }
    assert routes == {(p.method, p.route) for p in PROBES}


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: f"{p.method} {p.route}")
async def test_a_second_tenant_cannot_reach_the_first(
    world: World, ada: Tenant, bob: Tenant, probe: Probe
) -> None:
    """Bob gets 404 for Ada's ids, or acts on his own account only; Ada sees no change."""
    things = await ada_things(world, ada)
    path = probe.route.format(
        domain_id=things.domain_id,
        check_id=things.check_id,
        token_id=things.token_id,
        raw_id=things.raw_id,
    )
    response = await world.client.request(probe.method, path, json=probe.body, headers=bob.headers)
    assert response.status_code == probe.status, response.text
    if response.status_code == 404:
        assert response.headers["content-type"] == "application/problem+json"
    if probe.method == "GET" and response.status_code == 200:
        assert "ada@example.com" not in response.text
        assert str(things.domain_id) not in {
            str(i.get("id")) for i in response.json().get("items", [])
        }
    assert await snapshot(world, ada) == things.snapshot
