"""Quarantined reports on the dashboard and the API: listed for their owner, downloadable,
re-processable, and a 404 for every other tenant."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace

import pytest

from mailshield.core.documents.tls_report import ReportLimits
from mailshield.services.ingest import Arrival, Channel, IngestOptions, ReportIntake
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.reports import ReportStore

from .conftest import Tenant, World
from .test_pages import post, signed_in, verified

BROKEN = b'{"organization-name": "Sender", "policies": [{"policy": {"policy-domain": "one.example"'


async def quarantine(world: World, body: bytes, path: str = "/tlsrpt") -> int:
    """POST ``body`` to the HTTPS receiver; it must land in quarantine. Its raw id."""
    response = await world.client.post(
        path, content=body, headers={"Content-Type": "application/tlsrpt+json"}
    )
    assert response.status_code == 202, response.text
    raw_id: int = response.json()["raw"]
    return raw_id


async def test_the_reports_page_lists_the_domains_quarantined_reports(world: World) -> None:
    """The owner sees received time, channel, the reason in plain words and the size."""
    browser = await signed_in(world)
    domain_path = await verified(world, browser)
    await quarantine(world, BROKEN)
    page = (await browser.get(f"{domain_path}/reports")).text
    section = page[page.index('id="quarantine"') :]
    assert "The report is not valid JSON." in section
    assert "https" in section
    assert f"{len(BROKEN)} Bytes" in section
    assert "No quarantined reports" not in section


async def test_download_serves_the_bytes_as_they_arrived(world: World) -> None:
    """The download is the stored bytes as an attachment that a browser never renders."""
    browser = await signed_in(world)
    domain_path = await verified(world, browser)
    body = gzip.compress(b"<html><script>alert(1)</script>" + BROKEN)
    raw_id = await quarantine(world, body, "/tlsrpt/one.example")
    response = await browser.get(f"{domain_path}/reports/quarantine/{raw_id}")
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="quarantined-{raw_id}.json.gz"'
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_reprocess_is_a_csrf_protected_post_that_shows_the_result(world: World) -> None:
    """Re-processing needs the page's token; the flash then says what became of the report."""
    browser = await signed_in(world)
    domain_path = await verified(world, browser)
    raw_id = await quarantine(world, BROKEN)
    action = f"{domain_path}/reports/quarantine/{raw_id}/reprocess"
    assert (await browser.post(action, data={})).status_code == 403
    done = await post(browser, action, {}, f"{domain_path}/reports")
    assert done.status_code == 303
    assert done.headers["location"] == f"{domain_path}/reports#quarantine"
    page = (await browser.get(f"{domain_path}/reports")).text
    assert "Still in quarantine: The report is not valid JSON." in page


async def test_another_tenant_gets_404_for_the_page_download_and_reprocess(world: World) -> None:
    """Bob's browser reaches neither Ada's quarantine list, nor its bytes, nor re-processing."""
    ada = await signed_in(world)
    domain_path = await verified(world, ada)
    raw_id = await quarantine(world, BROKEN)
    bob = await signed_in(world, "bob@example.com")
    bob_path = await verified(world, bob, "two.example")
    assert (await bob.get(f"{domain_path}/reports")).status_code == 404
    for owner_path in (domain_path, bob_path):
        download = await bob.get(f"{owner_path}/reports/quarantine/{raw_id}")
        assert download.status_code == 404, owner_path
        assert BROKEN not in download.content
        action = f"{owner_path}/reports/quarantine/{raw_id}/reprocess"
        reprocess = await post(bob, action, {}, f"{bob_path}/reports")
        assert reprocess.status_code == 404, owner_path
    assert "The report is not valid JSON." not in (await bob.get(f"{bob_path}/reports")).text


async def api_domain(world: World, tenant: Tenant, name: str) -> int:
    """Add ``name`` over the API and verify it through the fake DNS; its id."""
    client, headers = world.client, tenant.headers
    domain = (await client.post("/api/v1/domains", json={"name": name}, headers=headers)).json()
    txt = next(r for r in domain["ownership"]["records"] if r["type"] == "TXT")
    world.zone[f"_mailshield.{name} TXT"] = [txt["value"]]
    path = f"/api/v1/domains/{domain['id']}/verification"
    assert (await client.post(path, headers=headers)).status_code == 200
    domain_id: int = domain["id"]
    return domain_id


async def test_the_api_lists_downloads_and_reprocesses(world: World, ada: Tenant) -> None:
    """The owner's token lists the quarantined report, downloads it and re-processes it."""
    domain_id = await api_domain(world, ada, "one.example")
    raw_id = await quarantine(world, BROKEN)
    base = f"/api/v1/domains/{domain_id}/reports/quarantine"
    listed = (await world.client.get(base, headers=ada.headers)).json()
    [item] = listed["items"]
    assert (item["id"], item["reason"], item["channel"]) == (raw_id, "bad_json", "https")
    assert item["reason_text"] == "The report is not valid JSON."
    assert item["size"] == len(BROKEN)
    assert listed["next_cursor"] is None
    download = await world.client.get(f"{base}/{raw_id}", headers=ada.headers)
    assert download.content == BROKEN
    assert download.headers["content-disposition"].startswith("attachment;")
    again = await world.client.post(f"{base}/{raw_id}/reprocess", headers=ada.headers)
    assert again.json()["status"] == "quarantined"
    assert again.json()["reason"] == "bad_json"


async def test_a_fixed_parser_stores_the_report_on_reprocessing(world: World, ada: Tenant) -> None:
    """A report quarantined for a since-fixed reason is stored when re-processed, and leaves
    the quarantine list."""
    domain_id = await api_domain(world, ada, "one.example")
    good = json.dumps(
        {
            "organization-name": "Sender",
            "date-range": {
                "start-datetime": "2024-05-01T00:00:00Z",
                "end-datetime": "2024-05-01T23:59:59Z",
            },
            "contact-info": "tlsrpt@sender.example",
            "report-id": "r1",
            "policies": [
                {
                    "policy": {"policy-type": "no-policy-found", "policy-domain": "one.example"},
                    "summary": {
                        "total-successful-session-count": 1,
                        "total-failure-session-count": 0,
                    },
                }
            ],
        }
    ).encode()
    database = world.app.state.database
    strict = IngestOptions(limits=replace(ReportLimits(), max_decompressed_bytes=len(good) // 2))
    before_the_fix = ReportIntake(ReportStore(database), DomainsTable(database), strict)
    quarantined = await before_the_fix.submit_report(good, Arrival(Channel.HTTPS))
    await before_the_fix.aclose()
    assert quarantined.reason == "too_large"
    base = f"/api/v1/domains/{domain_id}/reports/quarantine"
    again = await world.client.post(f"{base}/{quarantined.raw_id}/reprocess", headers=ada.headers)
    assert again.json()["status"] == "stored"
    assert (await world.client.get(base, headers=ada.headers)).json()["items"] == []


@pytest.mark.parametrize("verified_domain", [False, True], ids=["unverified", "verified"])
async def test_the_api_needs_the_domains_verified_ownership(
    world: World, ada: Tenant, verified_domain: bool
) -> None:
    """Without proven ownership the list is 403 ownership-required; with it, 200."""
    if verified_domain:
        domain_id = await api_domain(world, ada, "one.example")
    else:
        created = await world.client.post(
            "/api/v1/domains", json={"name": "one.example"}, headers=ada.headers
        )
        domain_id = created.json()["id"]
    response = await world.client.get(
        f"/api/v1/domains/{domain_id}/reports/quarantine", headers=ada.headers
    )
    assert response.status_code == (200 if verified_domain else 403)
    if not verified_domain:
        assert re.search("ownership", response.json()["type"])
