"""The FastAPI application: health page and the ``/api/v1`` skeleton."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from mailshield import __version__
from mailshield.interfaces.api import tlsrpt
from mailshield.services.settings import Settings
from mailshield.storage import Database


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """The application; without ``database`` it opens (and closes) one from ``settings``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(settings.effective_database_url)
        app.state.database = db
        try:
            yield
        finally:
            if database is None:
                await db.dispose()

    app = FastAPI(
        title="MailShield",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(tlsrpt.router)

    @app.get("/healthz", tags=["meta"])
    async def health() -> JSONResponse:
        """Liveness and readiness: the process answers, and so does its database (else 503)."""
        db: Database = app.state.database
        answers = await db.ping()
        body = {
            "status": "ok" if answers else "unavailable",
            "version": __version__,
            "database": "ok" if answers else "unreachable",
        }
        return JSONResponse(body, status_code=200 if answers else 503)

    return app
