"""The dashboard in a real browser: check a lab domain, sign up, add domains to the plan limit."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from .conftest import MailSink, Server, shoot

pytestmark = pytest.mark.lab

PASSWORD = "correct horse battery staple"


def post_tls_report(server: Server, domain: str, days_ago: int, failed: int) -> None:
    """POST one RFC 8460 report for ``domain`` to MailShield's HTTPS receiver (§5.4)."""
    day = (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()
    details = [
        {
            "result-type": "certificate-expired",
            "sending-mta-ip": "192.0.2.1",
            "receiving-mx-hostname": f"mx.{domain}",
            "failed-session-count": failed,
        }
    ]
    report = {
        "organization-name": "Sender Example",
        "date-range": {"start-datetime": f"{day}T00:00:00Z", "end-datetime": f"{day}T23:59:59Z"},
        "contact-info": "tlsrpt@sender.example",
        "report-id": f"{domain}-{day}",
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-domain": domain,
                    "mx-host": [f"mx.{domain}"],
                },
                "summary": {
                    "total-successful-session-count": 100 - failed,
                    "total-failure-session-count": failed,
                },
                "failure-details": details if failed else [],
            }
        ],
    }
    response = httpx.post(
        f"{server.url}/tlsrpt",
        content=json.dumps(report).encode(),
        headers={"Content-Type": "application/tlsrpt+json"},
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text


def post_broken_report(server: Server, domain: str) -> None:
    """POST bytes that are not a report to ``/tlsrpt/<domain>``: kept in quarantine (202)."""
    response = httpx.post(
        f"{server.url}/tlsrpt/{domain}",
        content=b'{"organization-name": "Sender Example", "policies": [',
        headers={"Content-Type": "application/tlsrpt+json"},
        timeout=30,
    )
    assert response.status_code == 202, response.text


def sign_up(page: Any, server: Server, email: str) -> None:
    page.goto(f"{server.url}/signup")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/domains$"))


def test_public_check_shows_score_grade_and_fixes(page: Any, server: Server) -> None:
    """A visitor checks a weak lab domain and sees its grade, findings and copyable fixes."""
    page.goto(server.url)
    shoot(page, "01-home")
    page.get_by_label("Domain name").fill("weak.test")
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(re.compile(r"/checks/\d+-[0-9a-f]+$"), timeout=60_000)
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "weak.test"
    assert page.locator(".score-ring").get_attribute("aria-label").startswith("Score ")
    mta_sts = page.locator("#check-mta_sts")
    assert "No MTA-STS record" in mta_sts.inner_text()
    assert "v=STSv1" in mta_sts.locator(".fix .copy-text").first.inner_text()
    assert page.locator(".fix .copy-button").first.is_visible()
    shoot(page, "02-report-weak")


def test_sign_up_add_domains_verify_check_and_hit_the_limit(page: Any, server: Server) -> None:
    """A new user adds a domain, proves it by CNAME, checks it twice, then meets the plan limit."""
    page.goto(f"{server.url}/signup")
    shoot(page, "03-signup")
    sign_up(page, server, "ada@example.com")
    assert "Welcome to MailShield" in page.locator(".flash").inner_text()
    shoot(page, "04-domains-empty")

    page.get_by_label("Add a domain").fill("onboard.test")
    page.get_by_role("button", name="Add domain").click()
    page.wait_for_url(re.compile(r"/domains/\d+$"))
    assert "_mailshield.onboard.test" in page.locator("#ownership").inner_text()
    shoot(page, "05-domain-unverified")
    page.get_by_role("button", name="Look for the record now").click()
    assert "Ownership of onboard.test is verified" in page.locator(".flash").inner_text()

    page.get_by_role("button", name="Host MTA-STS for onboard.test").click()
    hosting = page.locator("#hosting")
    assert "_mta-sts.onboard.test." in hosting.inner_text()
    assert "mode: testing" in hosting.locator(".policy-body").inner_text()
    shoot(page, "05b-hosting-onboarding")
    page.get_by_role("button", name="Move to enforce").click()
    page.wait_for_url(re.compile(r"/domains/\d+#hosting$"), timeout=60_000)
    outcome = page.locator(".flash").inner_text()
    assert "now in enforce mode" in outcome  # every MX covered, valid TLS: the gate lets it pass
    shoot(page, "05c-hosting-enforce-gate")
    for days_ago, failed in ((2, 0), (1, 4), (0, 1)):
        post_tls_report(server, "onboard.test", days_ago, failed)
    page.get_by_role("link", name="TLS reports").click()
    assert "Not ready to enforce yet" in page.locator(".verdict").inner_text()
    assert page.locator("svg.chart rect.chart-bar-1").count() == 2
    assert "certificate-expired" in page.locator("#types-title + table").inner_text()
    shoot(page, "05d-reports")
    post_broken_report(server, "onboard.test")
    page.reload()
    quarantine = page.locator("#quarantine")
    assert "The report is not valid JSON." in quarantine.inner_text()
    quarantine.get_by_role("button", name=re.compile("^Re-process")).first.click()
    page.wait_for_url(re.compile(r"/reports#quarantine$"))
    assert "Still in quarantine" in page.locator(".flash").inner_text()
    shoot(page, "05e-reports-quarantine")
    page.get_by_role("link", name="onboard.test", exact=True).click()

    for _ in range(2):
        page.get_by_role("button", name="Run a check now").click()
        page.wait_for_url(re.compile(r"/domains/\d+/checks/\d+$"), timeout=60_000)
        assert page.get_by_role("heading", level=1).inner_text() == "onboard.test"
        page.get_by_role("link", name="onboard.test", exact=True).click()
    assert page.locator("svg.chart circle").count() == 2
    shoot(page, "06-domain-verified-trend")

    page.goto(f"{server.url}/domains")
    page.get_by_label("Add a domain").fill("excellent.test")
    page.get_by_role("button", name="Add domain").click()
    page.goto(f"{server.url}/domains")
    limit = page.locator(".plan-limit")
    assert "Free plan holds up to 2 domains" in limit.inner_text()
    assert page.get_by_label("Add a domain").count() == 0
    shoot(page, "07-domains-plan-limit")


def test_log_in_out_and_reset_the_password(page: Any, server: Server, mail_sink: MailSink) -> None:
    """Log out, fail a log-in, reset the password from the mailed link, and create an API token."""
    sign_up(page, server, "bob@example.com")
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail address").fill("bob@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert "Wrong e-mail address or password" in page.locator(".note-fail").inner_text()
    shoot(page, "08-login-error")

    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill("bob@example.com")
    page.get_by_role("button", name="Send the link").click()
    assert "is on its way" in page.locator(".note-pass").inner_text()
    link = re.search(r"https?://\S+/password/reset/\S+", mail_sink.last_text())
    assert link is not None
    page.goto(link.group(0))
    page.get_by_label("New password").fill("an entirely new passphrase")
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_url(re.compile(r"/domains$"))

    page.goto(f"{server.url}/account")
    page.get_by_label("Name").fill("CI pipeline")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator(".new-token .copy-text").inner_text().strip()
    assert secret.startswith("msk_")
    shoot(page, "09-account-token")
    page.reload()
    assert secret not in page.content()


def test_core_flow_without_javascript(chromium: Any, server: Server) -> None:
    """With JavaScript off, a check still runs and its fixes are there as selectable text."""
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto(server.url)
        page.get_by_label("Domain name").fill("excellent.test")
        page.get_by_role("button", name="Check").click()
        page.wait_for_url(re.compile(r"/checks/"), timeout=60_000)
        assert page.get_by_role("heading", level=1).inner_text() == "excellent.test"
        assert not page.locator(".copy-button").first.is_visible()
        shoot(page, "10-report-mobile-no-js")
    finally:
        context.close()


def test_keyboard_reaches_the_content_first(page: Any, server: Server) -> None:
    """The first Tab lands on the skip link, which moves focus to the main content."""
    page.goto(server.url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
