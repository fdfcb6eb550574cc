"""``/api/v1``: account, domains, checks and tokens, with problem+json errors (RFC 9457)."""

from __future__ import annotations

import pytest

from .conftest import POLICY_HOST, Tenant, World

PROBLEM = "application/problem+json"


async def add(world: World, tenant: Tenant, name: str) -> dict[str, object]:
    response = await world.client.post(
        "/api/v1/domains", json={"name": name}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_account(world: World, ada: Tenant) -> None:
    """The account shows the address, the plan and the number of domains."""
    await add(world, ada, "example.com")
    body = (await world.client.get("/api/v1/account", headers=ada.headers)).json()
    assert body["email"] == "ada@example.com"
    assert body["plan"] == {"key": "free", "title": "Free", "max_domains": 2}
    assert body["domains"] == 1


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        pytest.param({}, None, id="no-token"),
        pytest.param({"Authorization": "Bearer msk_wrong"}, "invalid_token", id="unknown-token"),
        pytest.param({"Authorization": "Basic YWRhOnB3"}, None, id="other-scheme"),
    ],
)
async def test_missing_or_bad_tokens_get_401(
    world: World, headers: dict[str, str], error: str | None
) -> None:
    """Without a valid bearer token the answer is a 401 problem with a Bearer challenge."""
    response = await world.client.get("/api/v1/domains", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (error in response.headers["www-authenticate"]) if error else True
    assert response.json()["status"] == 401


async def test_session_cookies_do_not_authenticate_the_api(world: World, ada: Tenant) -> None:
    """A browser session is no API credential (so no cross-site request can use it)."""
    secret = await world.services.sessions.open(ada.user)
    world.client.cookies.set("ms_session", secret)
    assert (await world.client.get("/api/v1/account")).status_code == 401


async def test_domain_lifecycle(world: World, ada: Tenant) -> None:
    """Add (201 with Location), read, find the ownership records, verify through DNS, remove."""
    response = await world.client.post(
        "/api/v1/domains", json={"name": "https://Example.COM/"}, headers=ada.headers
    )
    assert response.status_code == 201
    domain = response.json()
    assert domain["name"] == "example.com"
    assert response.headers["location"].endswith(f"/api/v1/domains/{domain['id']}")
    records = {r["type"]: r for r in domain["ownership"]["records"]}
    assert records["TXT"]["name"] == "_mailshield.example.com"
    assert records["CNAME"] == {
        "name": "mta-sts.example.com",
        "type": "CNAME",
        "value": POLICY_HOST,
    }
    path = f"/api/v1/domains/{domain['id']}"
    assert (await world.client.get(path, headers=ada.headers)).json() == domain

    unverified = (await world.client.post(f"{path}/verification", headers=ada.headers)).json()
    assert unverified["ownership"]["verified"] is False
    assert "_mailshield.example.com" in unverified["ownership"]["problem"]
    world.zone["_mailshield.example.com TXT"] = [records["TXT"]["value"]]
    verified = (await world.client.post(f"{path}/verification", headers=ada.headers)).json()
    assert verified["ownership"]["verified"] is True
    assert verified["ownership"]["method"] == "txt"

    assert (await world.client.delete(path, headers=ada.headers)).status_code == 204
    gone = await world.client.get(path, headers=ada.headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == PROBLEM


async def test_plan_limit_problem(world: World, ada: Tenant) -> None:
    """The third domain on the free plan is a 403 plan-limit problem naming the limit."""
    await add(world, ada, "one.example")
    await add(world, ada, "two.example")
    response = await world.client.post(
        "/api/v1/domains", json={"name": "three.example"}, headers=ada.headers
    )
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"].endswith("/problems/plan-limit")
    assert (problem["plan"], problem["limit"]) == ("free", 2)
    assert "Free plan holds up to 2 domains" in problem["detail"]
    documentation = await world.client.get(problem["type"])
    assert documentation.status_code == 200
    assert "Plan limit reached" in documentation.text


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        pytest.param({"name": "not a domain"}, 422, "invalid-input", id="not-a-domain"),
        pytest.param({"name": ""}, 422, "invalid-input", id="empty"),
        pytest.param({}, 422, "invalid-input", id="missing-field"),
        pytest.param({"name": "example.com"}, 409, "conflict", id="duplicate"),
    ],
)
async def test_add_refusals(
    world: World, ada: Tenant, body: dict[str, str], status: int, slug: str
) -> None:
    """Invalid names are 422 with the errors listed; a duplicate is a 409 conflict."""
    await add(world, ada, "example.com")
    response = await world.client.post("/api/v1/domains", json=body, headers=ada.headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(f"/problems/{slug}")
    if status == 422:
        assert response.json()["errors"]


async def test_domain_pages(world: World, ada: Tenant) -> None:
    """Listing with limit=1 walks every domain once through next_cursor."""
    await world.services.plans.move(ada.user, "pro")
    for n in range(3):
        await add(world, ada, f"d{n}.example")
    names, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (
            await world.client.get("/api/v1/domains", params=params, headers=ada.headers)
        ).json()
        names += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == ["d0.example", "d1.example", "d2.example"]


@pytest.mark.parametrize("cursor", ["garbage!", "Y2hlY2tzOjE", "ZG9tYWluczp4"])
async def test_foreign_cursors_are_refused(world: World, ada: Tenant, cursor: str) -> None:
    """A cursor that is not a domains cursor is a 400 invalid-cursor problem."""
    response = await world.client.get(
        "/api/v1/domains", params={"cursor": cursor}, headers=ada.headers
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/problems/invalid-cursor")


async def test_checks_of_a_domain(world: World, ada: Tenant) -> None:
    """Running a check stores it; the history pages newest first; one report reads in full."""
    domain = await add(world, ada, "example.com")
    path = f"/api/v1/domains/{domain['id']}/checks"
    ids = []
    for _ in range(3):
        response = await world.client.post(path, headers=ada.headers)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    first = (await world.client.get(path, params={"limit": 2}, headers=ada.headers)).json()
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    rest = (
        await world.client.get(
            path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ada.headers
        )
    ).json()
    assert [c["id"] for c in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    report = (await world.client.get(f"{path}/{ids[0]}", headers=ada.headers)).json()
    assert (report["score"], report["grade"]) == (72, "C")
    fixes = [f["fix"] for r in report["results"] for f in r["findings"] if f["fix"]]
    assert "v=spf1 mx -all" in fixes


async def test_check_any_domain_and_rate_limit(world: World, ada: Tenant) -> None:
    """POST /checks runs a check; past the per-account limit it is a 429 with Retry-After."""
    for _ in range(5):
        response = await world.client.post(
            "/api/v1/checks", json={"domain": "example.org"}, headers=ada.headers
        )
        assert response.status_code == 201
    assert response.json()["report"]["domain"] == "example.org"
    limited = await world.client.post(
        "/api/v1/checks", json={"domain": "example.org"}, headers=ada.headers
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["type"].endswith("/problems/rate-limited")


async def test_tokens(world: World, ada: Tenant) -> None:
    """A created token works at once, is listed by prefix only, and stops working when revoked."""
    created = await world.client.post("/api/v1/tokens", json={"name": "ci"}, headers=ada.headers)
    assert created.status_code == 201
    secret = created.json()["secret"]
    new_headers = {"Authorization": f"Bearer {secret}"}
    assert (await world.client.get("/api/v1/account", headers=new_headers)).status_code == 200
    listed = (await world.client.get("/api/v1/tokens", headers=ada.headers)).json()["items"]
    assert {t["name"] for t in listed} == {"ci", "tests"}
    assert secret not in str(listed)
    token_id = created.json()["token"]["id"]
    revoked = await world.client.delete(f"/api/v1/tokens/{token_id}", headers=ada.headers)
    assert revoked.status_code == 204
    assert (await world.client.get("/api/v1/account", headers=new_headers)).status_code == 401


async def test_unknown_api_paths_are_problems(world: World, ada: Tenant) -> None:
    """Any error under /api, even an unknown path or method, is problem+json."""
    missing = await world.client.get("/api/v1/nothing", headers=ada.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    wrong = await world.client.put("/api/v1/domains", headers=ada.headers)
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == PROBLEM
