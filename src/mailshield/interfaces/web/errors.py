"""Error pages of the dashboard: a readable page with a way forward, never a stack trace."""

from __future__ import annotations

from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.session import LoginRequired, login_url
from mailshield.interfaces.web.templating import render

MESSAGES = {
    400: "The request could not be understood. Go back and try again.",
    403: "This form has expired or did not come from this site. Reload the page and try again.",
    404: "There is nothing here. The link may be wrong, or the page belongs to another account.",
    405: "This address does not take that kind of request.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}


async def error_page(
    request: Request, status: int, message: str | None = None, title: str | None = None
) -> Response:
    """The error page for ``status`` with a human message."""
    return await render(
        request,
        "error.html",
        status=status,
        title=title or HTTPStatus(status).phrase,
        message=message or MESSAGES.get(status, HTTPStatus(status).description),
    )


def to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(login_url(exc.next_path), status_code=303)
