"""The dashboard's pages over HTTP: cookies, CSRF, headers, forms, reset by mail, isolation."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from mailshield.interfaces.api.app import create_app

from .conftest import BASE_URL, PASSWORD, Tenant, World, settings_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def token(client: httpx.AsyncClient, path: str) -> str:
    found = CSRF.search((await client.get(path)).text)
    assert found is not None
    return found.group(1)


async def post(
    client: httpx.AsyncClient, path: str, form: dict[str, str], page: str = "/"
) -> httpx.Response:
    """Submit a form the way a browser does: with the token of the page it came from."""
    return await client.post(path, data={"csrf_token": await token(client, page), **form})


async def signed_in(world: World, email: str = "ada@example.com") -> httpx.AsyncClient:
    browser = world.browser()
    response = await post(browser, "/signup", {"email": email, "password": PASSWORD}, "/signup")
    assert response.status_code == 303
    return browser


async def test_sign_up_sets_a_safe_session_cookie(world: World) -> None:
    """Sign-up logs in with an HttpOnly, SameSite=Lax session cookie and lands on Domains."""
    response = await post(
        world.client, "/signup", {"email": "ada@example.com", "password": PASSWORD}, "/signup"
    )
    assert response.headers["location"] == "/domains"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ms_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here
    page = await world.client.get("/domains")
    assert page.status_code == 200
    assert "Welcome to MailShield" in page.text


async def test_https_sites_get_secure_host_cookies(tmp_path: Path) -> None:
    """With an https public URL the cookies are Secure and carry the __Host- prefix."""
    settings = settings_for(tmp_path, public_url="https://mailshield.example")
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://mailshield.example"
        ) as client,
    ):
        response = await client.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-ms_browser=")
    assert "Secure" in cookie


@pytest.mark.parametrize(
    "token_value",
    [pytest.param(None, id="missing"), pytest.param("0" * 64, id="forged")],
)
async def test_forms_without_the_browsers_token_are_refused(
    world: World, token_value: str | None
) -> None:
    """A POST without this browser's CSRF token is a 403 and changes nothing."""
    await world.client.get("/signup")
    form = {"email": "ada@example.com", "password": PASSWORD}
    if token_value is not None:
        form["csrf_token"] = token_value
    response = await world.client.post("/signup", data=form)
    assert response.status_code == 403
    assert "Form expired" in response.text
    assert await world.services.accounts.user(1) is None


async def test_a_token_from_another_browser_is_refused(world: World) -> None:
    """A token lifted from one browser does not work with another browser's cookie."""
    other = world.browser()
    stolen = await token(other, "/signup")
    await world.client.get("/signup")
    form = {"csrf_token": stolen, "email": "ada@example.com", "password": PASSWORD}
    assert (await world.client.post("/signup", data=form)).status_code == 403


async def test_security_headers(world: World) -> None:
    """Pages carry a strict CSP, no framing, nosniff, and are not cached."""
    response = await world.client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert (await world.client.get("/static/app.css")).status_code == 200


async def test_login_logout(world: World, ada: Tenant) -> None:
    """Wrong credentials show a message; right ones log in; logging out ends the session."""
    wrong = await post(
        world.client, "/login", {"email": "ada@example.com", "password": "nope nope nope"}, "/login"
    )
    assert wrong.status_code == 400
    assert "Wrong e-mail address or password" in wrong.text
    right = await post(
        world.client,
        "/login",
        {"email": "ada@example.com", "password": PASSWORD, "next": "/account"},
        "/login",
    )
    assert right.headers["location"] == "/account"
    assert (await world.client.get("/account")).status_code == 200
    await post(world.client, "/logout", {}, "/account")
    after = await world.client.get("/account")
    assert after.status_code == 303
    assert after.headers["location"] == "/login?next=/account"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
async def test_login_never_redirects_off_site(world: World, ada: Tenant, target: str) -> None:
    """The next parameter can only lead to a page of this site."""
    response = await post(
        world.client,
        "/login",
        {"email": "ada@example.com", "password": PASSWORD, "next": target},
        "/login",
    )
    assert response.headers["location"] == "/domains"


async def test_login_is_throttled(world: World, ada: Tenant) -> None:
    """After five failures the account answers 429 with Retry-After, even to the right password."""
    for _ in range(5):
        await post(
            world.client,
            "/login",
            {"email": "ada@example.com", "password": "wrong wrong"},
            "/login",
        )
    response = await post(
        world.client, "/login", {"email": "ada@example.com", "password": PASSWORD}, "/login"
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.text
    assert int(response.headers["retry-after"]) > 0


async def test_password_reset_by_mail(world: World, ada: Tenant) -> None:
    """The mailed link opens a form that sets the new password and logs in."""
    await post(world.client, "/password/forgot", {"email": "ada@example.com"}, "/password/forgot")
    link = world.outbox.last_link()
    assert link.startswith(f"{BASE_URL}/password/reset/")
    path = link.removeprefix(BASE_URL)
    form_page = await world.client.get(path)
    assert form_page.headers["referrer-policy"] == "no-referrer"
    done = await post(world.client, path, {"password": "a brand new password"}, path)
    assert done.headers["location"] == "/domains"
    again = await world.client.get(path)
    assert "invalid, used or expired" in again.text


async def test_public_check_and_its_signed_link(world: World) -> None:
    """A check redirects to its report; the report shows grade and fix; a forged link is 404."""
    response = await post(world.client, "/check", {"domain": "Example.COM"})
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/checks/\d+-[0-9a-f]{16}", location)
    report = await world.client.get(location)
    assert "example.com" in report.text
    assert "v=spf1 mx -all" in report.text
    assert 'aria-label="Score 72 out of 100, grade C"' in report.text
    check_id = location.split("/")[-1].split("-")[0]
    assert (await world.client.get(f"/checks/{check_id}-0000000000000000")).status_code == 404
    assert (await world.client.get(f"/checks/{int(check_id) + 1}")).status_code == 404


async def test_public_check_refusals(world: World) -> None:
    """A bad name re-shows the form with the reason; past the limit the page says to wait."""
    bad = await post(world.client, "/check", {"domain": "not a domain"})
    assert bad.status_code == 400
    assert "is not a valid domain name" in bad.text
    for _ in range(5):
        await post(world.client, "/check", {"domain": "example.com"})
    limited = await post(world.client, "/check", {"domain": "example.com"})
    assert limited.status_code == 429
    assert "Try again in" in limited.text


async def test_domain_pages_and_plan_limit(world: World) -> None:
    """Add two domains, see the TXT record to publish, then meet the plan-limit message."""
    browser = await signed_in(world)
    added = await post(browser, "/domains", {"domain": "one.example"}, "/domains")
    domain_path = added.headers["location"]
    page = await browser.get(domain_path)
    assert "_mailshield.one.example" in page.text
    assert "mailshield-verify=" in page.text
    await post(browser, "/domains", {"domain": "two.example"}, "/domains")
    listing = await browser.get("/domains")
    assert "Your Free plan holds up to 2 domains" in listing.text
    assert 'name="domain"' not in listing.text
    refused = await post(browser, "/domains", {"domain": "three.example"}, "/domains")
    assert refused.status_code == 403
    assert "Plan limit reached" in refused.text


async def test_domain_check_history(world: World) -> None:
    """Checking a domain leads to its stored report, and the domain page then shows the history."""
    browser = await signed_in(world)
    domain_path = (await post(browser, "/domains", {"domain": "one.example"}, "/domains")).headers[
        "location"
    ]
    for _ in range(2):
        checked = await post(browser, f"{domain_path}/check", {}, domain_path)
        assert re.fullmatch(rf"{domain_path}/checks/\d+", checked.headers["location"])
    page = await browser.get(domain_path)
    assert page.text.count("/checks/") >= 2
    assert '<svg class="chart"' in page.text


async def test_another_tenant_gets_404_on_every_domain_page(world: World) -> None:
    """Bob's browser gets 404 for every page and action on Ada's domain; it stays Ada's."""
    ada = await signed_in(world)
    domain_path = (await post(ada, "/domains", {"domain": "one.example"}, "/domains")).headers[
        "location"
    ]
    check_path = (await post(ada, f"{domain_path}/check", {}, domain_path)).headers["location"]
    bob = await signed_in(world, "bob@example.com")
    for path in (domain_path, check_path):
        assert (await bob.get(path)).status_code == 404
    for action in ("verify", "check", "remove"):
        response = await post(bob, f"{domain_path}/{action}", {}, "/domains")
        assert response.status_code == 404, action
    assert (await ada.get(domain_path)).status_code == 200


async def test_tokens_on_the_account_page(world: World) -> None:
    """A token created on the page is shown once, works on the API, and can be revoked."""
    browser = await signed_in(world)
    created = await post(browser, "/account/tokens", {"name": "ci"}, "/account")
    secret = re.search(r"(msk_[A-Za-z0-9_-]+)</code>", created.text)
    assert secret is not None
    headers = {"Authorization": f"Bearer {secret.group(1)}"}
    assert (await world.client.get("/api/v1/account", headers=headers)).status_code == 200
    assert secret.group(1) not in (await browser.get("/account")).text
    token_id = re.search(r"/account/tokens/(\d+)/revoke", created.text)
    assert token_id is not None
    await post(browser, f"/account/tokens/{token_id.group(1)}/revoke", {}, "/account")
    assert (await world.client.get("/api/v1/account", headers=headers)).status_code == 401


async def test_pages_need_a_session(world: World) -> None:
    """Signed-out visitors are sent to log in and brought back."""
    for path in ("/domains", "/account", "/domains/1"):
        response = await world.client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


async def verified(world: World, browser: httpx.AsyncClient, name: str = "one.example") -> str:
    """Add ``name`` in the browser, publish its token and MX in the fake DNS, verify it."""
    domain_path = (await post(browser, "/domains", {"domain": name}, "/domains")).headers[
        "location"
    ]
    page = (await browser.get(domain_path)).text
    value = re.search(r"mailshield-verify=[A-Za-z0-9_-]+", page)
    assert value is not None
    world.zone[f"_mailshield.{name} TXT"] = [value.group(0)]
    world.zone[f"{name} MX"] = [f"10 mx.{name}."]
    world.zone[f"mx.{name} A"] = ["192.0.2.25"]
    await post(browser, f"{domain_path}/verify", {}, domain_path)
    return domain_path


async def test_hosting_from_the_domain_page(world: World) -> None:
    """Host a verified domain, meet the enforce gate, and be kept from removing it while hosted."""
    browser = await signed_in(world)
    domain_path = await verified(world, browser)
    started = await post(browser, f"{domain_path}/hosting", {}, domain_path)
    assert started.headers["location"] == f"{domain_path}#hosting"
    page = (await browser.get(domain_path)).text
    assert "_mta-sts.one.example." in page
    assert "mode: testing" in page
    await post(browser, f"{domain_path}/hosting/mode", {"mode": "enforce"}, domain_path)
    assert "Not safe to enforce yet" in (await browser.get(domain_path)).text
    await post(browser, f"{domain_path}/remove", {}, domain_path)
    assert "Stop hosting first" in (await browser.get(domain_path)).text
    reports = await browser.get(f"{domain_path}/reports")
    assert reports.status_code == 200
    assert "Not ready to enforce yet" in reports.text


async def test_hosting_and_reports_need_verified_ownership(world: World) -> None:
    """An unverified domain offers no hosting, and its reports page says to verify first."""
    browser = await signed_in(world)
    domain_path = (await post(browser, "/domains", {"domain": "one.example"}, "/domains")).headers[
        "location"
    ]
    await post(browser, f"{domain_path}/hosting", {}, domain_path)
    assert "Prove that one.example is yours first" in (await browser.get(domain_path)).text
    reports = await browser.get(f"{domain_path}/reports")
    assert reports.status_code == 403
    bob = await signed_in(world, "bob@example.com")
    assert (await bob.get(f"{domain_path}/reports")).status_code == 404
    for action in ("hosting", "hosting/mode", "hosting/verify", "hosting/stop"):
        response = await post(bob, f"{domain_path}/{action}", {"mode": "enforce"}, "/domains")
        assert "one.example" not in response.text
