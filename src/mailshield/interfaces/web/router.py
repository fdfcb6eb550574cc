"""Everything the dashboard adds to the application: pages, static files, browser security."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from mailshield.interfaces.api.problems import PROBLEM_TYPES
from mailshield.interfaces.web import (
    account_pages,
    auth_pages,
    check_pages,
    domain_pages,
    hosting_pages,
    quarantine_pages,
)
from mailshield.interfaces.web.errors import error_page
from mailshield.interfaces.web.security import browser_security
from mailshield.interfaces.web.templating import render

info = APIRouter(include_in_schema=False)


@info.get("/problems/{slug}", name="problem_type")
async def problem_type(request: Request, slug: str) -> Response:
    """Documentation of one of the API's problem types (RFC 9457 §3.1.1)."""
    if slug not in PROBLEM_TYPES:
        return await error_page(request, 404)
    title, text = PROBLEM_TYPES[slug]
    return await render(request, "problem_type.html", slug=slug, title=title, text=text)


@info.get("/favicon.ico")
async def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def install_dashboard(app: FastAPI) -> None:
    """Mount the static files, include every page router and the browser-security middleware."""
    static = StaticFiles(packages=[("mailshield.interfaces.web", "static")])
    app.mount("/static", static, name="static")
    for router in (
        check_pages.router,
        auth_pages.router,
        domain_pages.router,
        account_pages.router,
        hosting_pages.router,
        quarantine_pages.router,
        info,
    ):
        app.include_router(router)
    app.middleware("http")(browser_security)
