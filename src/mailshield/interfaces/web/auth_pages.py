"""Sign up, log in, log out, and reset a forgotten password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.check_pages import client_address
from mailshield.interfaces.web.security import checked_form, set_flash
from mailshield.interfaces.web.session import (
    app_services,
    current_user,
    end_session,
    safe_next,
    start_session,
)
from mailshield.interfaces.web.templating import render
from mailshield.services.account_errors import AccountError, InvalidInput, Throttled
from mailshield.services.passwords import MIN_LENGTH

router = APIRouter(include_in_schema=False)


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _field(error: AccountError) -> str:
    return error.field if isinstance(error, InvalidInput) else ""


@router.get("/signup")
async def signup_form(request: Request) -> Response:
    if await current_user(request):
        return _see_other("/domains")
    return await render(
        request, "signup.html", email="", error=None, field="", min_length=MIN_LENGTH
    )


@router.post("/signup")
async def signup(request: Request) -> Response:
    form = await checked_form(request)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    try:
        user = await app_services(request).accounts.sign_up(email, password)
    except AccountError as exc:
        return await render(
            request,
            "signup.html",
            status=400,
            email=email,
            error=exc.message,
            field=_field(exc),
            min_length=MIN_LENGTH,
        )
    response = _see_other("/domains")
    await start_session(request, response, user)
    set_flash(request, response, "Welcome to MailShield! Add your first domain below.")
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await current_user(request):
        return _see_other(safe_next(next))
    return await render(request, "login.html", email="", error=None, next=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    try:
        user = await app_services(request).accounts.log_in(email, password, client_address(request))
    except AccountError as exc:
        status = 429 if isinstance(exc, Throttled) else 400
        page = await render(
            request, "login.html", status=status, email=email, error=exc.message, next=target
        )
        if isinstance(exc, Throttled):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = _see_other(target)
    await end_session(request, response, clear=False)  # a fresh session id: no fixation
    await start_session(request, response, user)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    response = _see_other("/")
    await end_session(request, response)
    set_flash(request, response, "You are logged out.")
    return response


@router.get("/password/forgot")
async def forgot_form(request: Request) -> Response:
    return await render(request, "forgot.html", email="", sent=False)


@router.post("/password/forgot")
async def forgot(request: Request) -> Response:
    form = await checked_form(request)
    email = str(form.get("email", ""))
    await app_services(request).accounts.request_reset(email)
    return await render(request, "forgot.html", email=email, sent=True)


@router.get("/password/reset/{secret}")
async def reset_form(request: Request, secret: str) -> Response:
    accounts = app_services(request).accounts
    try:
        user = await accounts.reset_target(secret)
    except AccountError as exc:
        return await render(
            request,
            "reset.html",
            status=400,
            invalid=exc.message,
            email="",
            error=None,
            min_length=MIN_LENGTH,
        )
    response = await render(
        request, "reset.html", invalid=None, email=user.email, error=None, min_length=MIN_LENGTH
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the secret is in this page's URL
    return response


@router.post("/password/reset/{secret}")
async def reset(request: Request, secret: str) -> Response:
    form = await checked_form(request)
    accounts = app_services(request).accounts
    try:
        user = await accounts.reset_password(secret, str(form.get("password", "")))
    except InvalidInput as exc:
        target = await accounts.reset_target(secret)
        return await render(
            request,
            "reset.html",
            status=400,
            invalid=None,
            email=target.email,
            error=exc.message,
            min_length=MIN_LENGTH,
        )
    except AccountError as exc:
        return await render(
            request,
            "reset.html",
            status=400,
            invalid=exc.message,
            email="",
            error=None,
            min_length=MIN_LENGTH,
        )
    response = _see_other("/domains")
    await end_session(request, response, clear=False)
    await start_session(request, response, user)
    set_flash(request, response, "Your password is changed, and other sessions are logged out.")
    return response
