"""Hosted MTA-STS and TLS reports under ``/api/v1/domains/{id}``: ownership first, safe changes."""

from __future__ import annotations

from typing import Any

from .conftest import Tenant, World


async def verified_domain(world: World, tenant: Tenant, name: str = "example.com") -> str:
    """Add ``name``, publish its TXT token and MX in the fake DNS, verify; return its path."""
    client = world.client
    domain = (
        await client.post("/api/v1/domains", json={"name": name}, headers=tenant.headers)
    ).json()
    txt = next(r for r in domain["ownership"]["records"] if r["type"] == "TXT")
    world.zone[f"_mailshield.{name} TXT"] = [txt["value"]]
    world.zone[f"{name} MX"] = [f"10 mx.{name}."]
    world.zone[f"mx.{name} A"] = ["192.0.2.25"]
    path = f"/api/v1/domains/{domain['id']}"
    assert (await client.post(f"{path}/verification", headers=tenant.headers)).json()["ownership"][
        "verified"
    ]
    return path


async def test_unverified_domains_cannot_be_hosted_or_read(world: World, ada: Tenant) -> None:
    """Hosting and reports of a domain whose ownership is not proven are 403 problems."""
    domain = (
        await world.client.post(
            "/api/v1/domains", json={"name": "example.com"}, headers=ada.headers
        )
    ).json()
    path = f"/api/v1/domains/{domain['id']}"
    for method, suffix in (
        ("POST", "/hosting"),
        ("GET", "/reports/summary"),
        ("GET", "/reports/readiness"),
    ):
        response = await world.client.request(method, path + suffix, headers=ada.headers)
        assert response.status_code == 403, suffix
        assert response.json()["type"].endswith("/problems/ownership-required")
    assert (await world.client.get(f"{path}/hosting", headers=ada.headers)).status_code == 404


async def test_hosting_lifecycle(world: World, ada: Tenant) -> None:
    """Start in testing with records to publish, edit the policy, meet the gate, stop safely."""
    path = await verified_domain(world, ada)
    started = await world.client.post(f"{path}/hosting", headers=ada.headers)
    assert started.status_code == 201
    hosting: dict[str, Any] = started.json()
    assert (hosting["state"], hosting["policy"]["mode"]) == ("pending_dns", "testing")
    assert hosting["policy"]["mx"] == ["mx.example.com"]
    owners = {(r["owner"], r["type"]) for r in hosting["records"]}
    assert ("_mta-sts.example.com", "TXT") in owners
    assert ("mta-sts.example.com", "CNAME") in owners

    edited = await world.client.patch(
        f"{path}/hosting/policy", json={"max_age": 172800}, headers=ada.headers
    )
    assert edited.status_code == 200
    assert edited.json()["policy"]["max_age"] == 172800
    assert edited.json()["policy"]["id"] != hosting["policy"]["id"]

    gate = await world.client.post(
        f"{path}/hosting/mode", json={"mode": "enforce"}, headers=ada.headers
    )
    assert gate.status_code == 409
    problem = gate.json()
    assert problem["type"].endswith("/problems/blocked")
    assert problem["reasons"]
    assert (await world.client.get(f"{path}/hosting", headers=ada.headers)).json()["policy"][
        "mode"
    ] == "testing"

    removal = await world.client.delete(path, headers=ada.headers)
    assert removal.status_code == 409
    assert "Stop hosting first" in removal.json()["detail"]
    stopping = await world.client.delete(f"{path}/hosting", headers=ada.headers)
    assert stopping.status_code == 200
    assert stopping.json()["state"] == "removing"
    assert stopping.json()["policy"]["mode"] == "none"


async def test_report_summary_and_readiness(world: World, ada: Tenant) -> None:
    """With no reports yet the summary is empty and the verdict is not ready, with a reason."""
    path = await verified_domain(world, ada)
    summary = await world.client.get(
        f"{path}/reports/summary", params={"days": 7}, headers=ada.headers
    )
    assert summary.status_code == 200
    body = summary.json()
    assert (body["domain"], body["reports"], body["failed-sessions"]) == ("example.com", 0, 0)
    assert len(body["days"]) == 7
    readiness = (await world.client.get(f"{path}/reports/readiness", headers=ada.headers)).json()
    assert readiness["ready"] is False
    assert readiness["blockers"]
