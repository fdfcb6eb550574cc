"""``POST /tlsrpt`` in front of the middleware: what it skips, and a client that leaves early."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from mailshield.interfaces.api.app import create_app
from mailshield.services.settings import load_settings
from mailshield.storage import Database
from mailshield.storage.report_tables import tlsrpt_raw

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"


@pytest.fixture
async def app(migrated: Database, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The application over the migrated database, started (its lifespan entered)."""
    application = create_app(load_settings(data_dir=tmp_path), migrated)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the started application."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mailshield.test") as http:
        yield http


async def raw_rows(database: Database) -> int:
    async with database.connect() as connection:
        query = select(func.count()).select_from(tlsrpt_raw)
        return int((await connection.execute(query)).scalar_one())


@pytest.mark.parametrize(
    ("method", "path", "browser_headers"),
    [
        pytest.param("POST", "/tlsrpt/v1", False, id="report-post"),
        pytest.param("GET", "/healthz", True, id="other-path"),
    ],
)
async def test_browser_headers_only_outside_the_receiver(
    client: httpx.AsyncClient, method: str, path: str, browser_headers: bool
) -> None:
    """Reports are answered without the dashboard's headers; every other path keeps them."""
    body = (CORPUS / "google.json").read_bytes()
    headers = {"content-type": "application/tlsrpt+json"}
    response = await client.request(method, path, content=body, headers=headers)
    assert response.status_code in (200, 201)
    assert ("x-frame-options" in response.headers) is browser_headers


async def test_report_answer_is_json_with_length(client: httpx.AsyncClient) -> None:
    """The receiver's answer is a complete JSON document with its length declared."""
    body = (CORPUS / "google.json").read_bytes()
    response = await client.post(
        "/tlsrpt", content=body, headers={"content-type": "application/tlsrpt+json"}
    )
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.json()["organization-name"] == "Google Inc."


async def test_client_leaving_mid_body_keeps_nothing(app: FastAPI, migrated: Database) -> None:
    """A reporter that disconnects before its body is complete gets no answer; nothing is kept."""
    body = (CORPUS / "google.json").read_bytes()
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:100], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/tlsrpt",
        "raw_path": b"/tlsrpt",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/tlsrpt+json")],
        "client": ("192.0.2.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    assert sent == []
    assert await raw_rows(migrated) == 0
