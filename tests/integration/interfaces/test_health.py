"""``/healthz``: the process answers, and says whether its database does."""

from __future__ import annotations

from pathlib import Path

import httpx

from mailshield.interfaces.api.app import create_app
from mailshield.services.settings import Settings, load_settings


async def get_health(settings: Settings) -> httpx.Response:
    """GET /healthz in-process, with the application's start-up and shut-down around it."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://mailshield.test") as client,
    ):
        return await client.get("/healthz")


async def test_health_with_a_working_database(tmp_path: Path) -> None:
    """With a reachable database the health check answers 200 and database ok."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'mailshield.db'}"
    response = await get_health(load_settings(data_dir=tmp_path, database_url=url))
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_health_with_an_unreachable_database(tmp_path: Path) -> None:
    """When the database does not answer the health check says so with 503."""
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    response = await get_health(load_settings(data_dir=tmp_path, database_url=url))
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unreachable"
