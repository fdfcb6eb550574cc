"""The Account page: plan and usage, password change, and personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.security import checked_form, set_flash
from mailshield.interfaces.web.session import SignedIn, app_services, start_session
from mailshield.interfaces.web.templating import render
from mailshield.services.account_errors import AccountError
from mailshield.services.api_tokens import NewToken
from mailshield.services.passwords import MIN_LENGTH

router = APIRouter(include_in_schema=False)


async def _account_page(
    request: Request,
    user: SignedIn,
    *,
    status: int = 200,
    new_token: NewToken | None = None,
    token_error: str | None = None,
    password_error: str | None = None,
) -> Response:
    app = app_services(request)
    return await render(
        request,
        "account.html",
        status=status,
        usage=await app.domains.usage(user),
        tokens=await app.tokens.list(user),
        new_token=new_token,
        token_error=token_error,
        password_error=password_error,
        min_length=MIN_LENGTH,
        api_base=f"{app.settings.public_url.rstrip('/')}/api/v1",
    )


@router.get("/account")
async def account(request: Request, user: SignedIn) -> Response:
    return await _account_page(request, user)


@router.post("/account/tokens")
async def create_token(request: Request, user: SignedIn) -> Response:
    """Create a token and show its secret on this answer only (it is never shown again)."""
    form = await checked_form(request)
    try:
        created = await app_services(request).tokens.create(user, str(form.get("name", "")))
    except AccountError as exc:
        return await _account_page(request, user, status=400, token_error=exc.message)
    return await _account_page(request, user, new_token=created)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    await app_services(request).tokens.revoke(user, token_id if 0 < token_id < 2**63 else 0)
    response = RedirectResponse("/account#tokens", status_code=303)
    set_flash(request, response, "The token is revoked. Programs using it are refused from now on.")
    return response


@router.post("/account/password")
async def change_password(request: Request, user: SignedIn) -> Response:
    form = await checked_form(request)
    accounts = app_services(request).accounts
    try:
        await accounts.change_password(
            user, str(form.get("current", "")), str(form.get("password", ""))
        )
    except AccountError as exc:
        return await _account_page(request, user, status=400, password_error=exc.message)
    response = RedirectResponse("/account", status_code=303)
    await start_session(request, response, user)  # every old session ended; keep this browser in
    set_flash(request, response, "Your password is changed; other sessions are logged out.")
    return response
