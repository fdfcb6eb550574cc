"""``POST /tlsrpt``: media types, size caps and status codes, in-process over a real database."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mailshield.interfaces.api.app import create_app
from mailshield.services.settings import load_settings
from mailshield.storage import Database

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
CAP = 64 * 1024


@pytest.fixture
async def client(migrated: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application over the migrated database, with a 64 KiB report cap."""
    settings = load_settings(data_dir=tmp_path, report_max_bytes=CAP)
    app = create_app(settings, migrated)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://mailshield.test") as http,
    ):
        yield http


async def post(
    client: httpx.AsyncClient, body: bytes, content_type: str | None, **headers: str
) -> httpx.Response:
    """POST ``body`` to the receiver with the given Content-Type (none when ``None``)."""
    if content_type is not None:
        headers["content-type"] = content_type
    return await client.post("/tlsrpt/v1", content=body, headers=headers)


@pytest.mark.parametrize(
    ("name", "content_type", "extra"),
    [
        pytest.param("conformant.json.gz", "application/tlsrpt+gzip", {}, id="tlsrpt-gzip"),
        pytest.param("conformant.json", "application/tlsrpt+json", {}, id="tlsrpt-json"),
        pytest.param("conformant.json", "application/json; charset=utf-8", {}, id="json"),
        pytest.param("conformant.json.gz", "application/gzip", {}, id="gzip"),
        pytest.param("conformant.json.gz", "application/x-gzip", {}, id="x-gzip"),
        pytest.param("conformant.json.gz", "application/octet-stream", {}, id="octet-stream"),
        pytest.param(
            "conformant.json.gz",
            "application/tlsrpt+json",
            {"content-encoding": "gzip"},
            id="json-with-content-encoding-gzip",
        ),
        pytest.param("conformant.json.gz", "Application/TLSRPT+GZIP", {}, id="upper-case"),
    ],
)
async def test_accepted_types_store_the_report(
    client: httpx.AsyncClient, name: str, content_type: str, extra: dict[str, str]
) -> None:
    """The RFC types and the variants real senders use are stored: 201 on first arrival."""
    response = await post(client, (CORPUS / name).read_bytes(), content_type, **extra)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "stored"


@pytest.mark.parametrize(
    ("content_type", "extra"),
    [
        pytest.param("text/plain", {}, id="text-plain"),
        pytest.param("application/xml", {}, id="xml"),
        pytest.param(None, {}, id="no-type"),
        pytest.param("application/tlsrpt+json", {"content-encoding": "br"}, id="brotli"),
    ],
)
async def test_other_types_get_415(
    client: httpx.AsyncClient, content_type: str | None, extra: dict[str, str]
) -> None:
    """Anything that is not a report type is refused with 415 before the body is used."""
    body = (CORPUS / "conformant.json").read_bytes()
    response = await post(client, body, content_type, **extra)
    assert response.status_code == 415


async def test_copy_gets_200_and_is_counted(client: httpx.AsyncClient) -> None:
    """The same report posted again is answered 200 and counted as a second copy."""
    body = (CORPUS / "google.json").read_bytes()
    first = await post(client, body, "application/tlsrpt+json")
    second = await post(client, gzip.compress(body), "application/tlsrpt+gzip")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["copies"] == 2
    assert second.json()["report"] == first.json()["report"]


async def test_unparseable_report_gets_202_and_is_quarantined(client: httpx.AsyncClient) -> None:
    """A body that is not a report is kept in quarantine with the reason: 202."""
    body = (CORPUS / "broken-truncated.json.gz").read_bytes()
    response = await post(client, body, "application/tlsrpt+gzip")
    assert response.status_code == 202
    assert response.json()["reason"] == "bad_gzip"


async def test_foreign_domain_gets_403(client: httpx.AsyncClient) -> None:
    """A report about domains not served here is refused with 403."""
    document = json.loads((CORPUS / "google.json").read_bytes())
    for policy in document["policies"]:
        policy["policy"]["policy-domain"] = "not-ours.example"
    response = await post(client, json.dumps(document).encode(), "application/tlsrpt+json")
    assert response.status_code == 403
    assert "not-ours.example" in response.json()["detail"]


async def test_declared_oversize_gets_413(client: httpx.AsyncClient) -> None:
    """A Content-Length above the cap is refused without reading the body."""
    response = await post(client, b"x" * (CAP + 1), "application/tlsrpt+json")
    assert response.status_code == 413


async def test_streamed_oversize_gets_413(client: httpx.AsyncClient) -> None:
    """A chunked body is cut off as soon as it passes the cap."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"{" * 4096

    response = await client.post(
        "/tlsrpt", content=chunks(), headers={"content-type": "application/tlsrpt+json"}
    )
    assert response.status_code == 413


async def test_gzip_bomb_is_not_expanded(client: httpx.AsyncClient) -> None:
    """A small gzip body that would expand past the cap is quarantined as a bomb, not inflated."""
    bomb = gzip.compress(b"\0" * (64 * CAP))
    response = await post(client, bomb, "application/tlsrpt+gzip")
    assert response.status_code == 202
    assert response.json()["reason"] == "decompression_bomb"


async def test_empty_body_gets_400(client: httpx.AsyncClient) -> None:
    """An empty POST is not a report."""
    response = await post(client, b"", "application/tlsrpt+json")
    assert response.status_code == 400


async def test_get_is_not_allowed(client: httpx.AsyncClient) -> None:
    """Only POST is defined (RFC 8460 §5.4)."""
    response = await client.get("/tlsrpt")
    assert response.status_code == 405
