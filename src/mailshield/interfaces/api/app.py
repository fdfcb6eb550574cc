"""The FastAPI application: health page, the ``/api/v1`` JSON API and the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from mailshield import __version__
from mailshield.interfaces.api import tlsrpt, v1
from mailshield.interfaces.api.container import Overrides, build_services
from mailshield.interfaces.api.errors import install_error_handlers
from mailshield.interfaces.web.router import install_dashboard
from mailshield.interfaces.web.security import CookieNames
from mailshield.services.settings import Settings
from mailshield.storage import Database

DESCRIPTION = (
    "Check domains, keep their history, and manage them. Authenticate with a personal API "
    "token (`Authorization: Bearer msk_…`, created on the dashboard's Account page). Errors "
    "are RFC 9457 problem details (`application/problem+json`)."
)


class _MailShieldApp(FastAPI):
    """The FastAPI application with TLS-RPT report POSTs answered before it is entered.

    A report POST goes straight to :class:`~mailshield.interfaces.api.tlsrpt.LeanReceiver`
    (no FastAPI or Starlette dispatch, no middleware); every other request, the lifespan
    included, goes through the application as usual.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._reports = tlsrpt.LeanReceiver(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if tlsrpt.LeanReceiver.wants(scope):
            await self._reports(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    settings: Settings, database: Database | None = None, *, overrides: Overrides | None = None
) -> FastAPI:
    """The application; without ``database`` it opens (and closes) one from ``settings``.

    ``overrides`` replaces the parts that reach outside the process (tests and demos).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database(settings.effective_database_url)
        app.state.database = db
        app.state.services = build_services(settings, db, overrides)
        try:
            yield
        finally:
            if database is None:
                await db.dispose()

    app = _MailShieldApp(
        title="MailShield",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN; see docs/api.md instead
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.cookies = CookieNames(secure=settings.public_url.startswith("https:"))
    app.include_router(tlsrpt.router)
    app.include_router(v1.router())
    v1.install_openapi(app)
    install_error_handlers(app)
    install_dashboard(app)

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
