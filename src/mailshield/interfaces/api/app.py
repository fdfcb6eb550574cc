"""The FastAPI application: health page and the ``/api/v1`` skeleton."""

from __future__ import annotations

from fastapi import FastAPI

from mailshield import __version__
from mailshield.services.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="MailShield", version=__version__, openapi_url="/api/v1/openapi.json")
    app.state.settings = settings

    @app.get("/healthz", tags=["meta"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    return app
