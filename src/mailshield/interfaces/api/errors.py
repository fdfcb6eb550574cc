"""One place maps exceptions to answers: problems under ``/api/``, pages everywhere else."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mailshield.interfaces.api.auth import ApiUnauthorized, challenge
from mailshield.interfaces.api.pagination import InvalidCursor
from mailshield.interfaces.api.problems import account_problem, problem_response
from mailshield.interfaces.web.errors import MESSAGES, error_page, to_login
from mailshield.interfaces.web.security import CsrfRejected
from mailshield.interfaces.web.session import LoginRequired
from mailshield.services.account_errors import (
    AccountError,
    Blocked,
    Conflict,
    NotFound,
    OwnershipRequired,
    PlanLimitReached,
    Throttled,
    Unavailable,
)
from mailshield.services.domain_checks import CheckDeadlineExceeded

log = logging.getLogger(__name__)


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _unauthorized(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiUnauthorized)
    detail = "Send a valid API token as `Authorization: Bearer <token>`."
    headers = {"WWW-Authenticate": challenge(exc.presented)}
    return problem_response(request, 401, detail, headers=headers)


async def _account_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccountError)
    if _api(request):
        return account_problem(request, exc)
    return await error_page(request, _page_status(exc), exc.message)


def _page_status(error: AccountError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Throttled):
        return 429
    if isinstance(error, OwnershipRequired | PlanLimitReached):
        return 403
    if isinstance(error, Conflict | Blocked):
        return 409
    if isinstance(error, Unavailable):
        return 503
    return 400


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if _api(request):
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return problem_response(request, exc.status_code, detail, headers=headers)
    page = await error_page(request, exc.status_code)
    page.headers.update(headers)
    return page


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _api(request):
        return await error_page(request, 400)
    errors = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    return problem_response(
        request, 422, "The request is not valid.", slug="invalid-input", errors=errors
    )


async def _bad_cursor(request: Request, exc: Exception) -> Response:
    return problem_response(request, 400, "Unknown cursor.", slug="invalid-cursor")


async def _csrf(request: Request, exc: Exception) -> Response:
    return await error_page(request, 403, title="Form expired")


async def _too_slow(request: Request, exc: Exception) -> Response:
    if _api(request):
        return problem_response(request, 504, str(exc))
    return await error_page(request, 504, str(exc))


async def _login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return to_login(request, exc)


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _api(request):
        return problem_response(request, 500, "An internal error occurred; it has been logged.")
    try:
        return await error_page(request, 500)
    except Exception:  # the page itself needs what just failed (e.g. the database)
        return PlainTextResponse(MESSAGES[500], status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiUnauthorized, _unauthorized)
    app.add_exception_handler(AccountError, _account_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(InvalidCursor, _bad_cursor)
    app.add_exception_handler(CsrfRejected, _csrf)
    app.add_exception_handler(CheckDeadlineExceeded, _too_slow)
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(Exception, _crash)
