"""Hosted MTA-STS on a domain's page (onboarding, live record status, policy editor with the
safe enforce gate, safe stop) and the domain's TLS-RPT reports page (with its quarantined
reports, :mod:`~mailshield.interfaces.web.quarantine_pages`).

Every action goes through :class:`~mailshield.services.dashboard_hosting.DomainHosting` with the
signed-in user, which refuses other tenants' and unverified domains.
"""

from __future__ import annotations

from collections.abc import Awaitable

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.report_charts import report_charts
from mailshield.interfaces.web.security import checked_form, set_flash
from mailshield.interfaces.web.session import SignedIn, app_services
from mailshield.interfaces.web.templating import render
from mailshield.services.account_errors import AccountError, Blocked, InvalidInput

router = APIRouter(include_in_schema=False)

MAX_FLASH = 1200  # characters: the flash cookie must stay small


def _back(domain_id: int) -> RedirectResponse:
    return RedirectResponse(f"/domains/{domain_id}#hosting", status_code=303)


def _refusal_text(error: AccountError) -> str:
    text = error.message
    if isinstance(error, Blocked) and error.reasons:
        text += " " + " ".join(f"• {reason}" for reason in error.reasons)
    return text[:MAX_FLASH]


async def _act(request: Request, domain_id: int, done: str, action: Awaitable[object]) -> Response:
    """Await ``action``; flash ``done`` or the refusal, and go back to the domain."""
    response = _back(domain_id)
    try:
        await action
    except AccountError as exc:
        set_flash(request, response, _refusal_text(exc), kind="warning")
        return response
    set_flash(request, response, done)
    return response


@router.post("/domains/{domain_id}/hosting")
async def start(request: Request, domain_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    hosting = app_services(request).hosting
    return await _act(
        request,
        domain_id,
        "MailShield now serves a testing policy. Publish the records below.",
        hosting.start(user, domain_id),
    )


@router.post("/domains/{domain_id}/hosting/mode")
async def set_mode(request: Request, domain_id: int, user: SignedIn) -> Response:
    form = await checked_form(request)
    mode = str(form.get("mode", ""))
    force = form.get("force") == "yes"
    hosting = app_services(request).hosting
    done = f"The policy is now in {mode} mode. Senders pick it up as their cached copies expire."
    return await _act(
        request, domain_id, done, hosting.set_mode(user, domain_id, mode, force=force)
    )


@router.post("/domains/{domain_id}/hosting/policy")
async def edit_policy(request: Request, domain_id: int, user: SignedIn) -> Response:
    form = await checked_form(request)
    text = str(form.get("max_age", "")).strip()
    if not text.isdigit():
        response = _back(domain_id)
        set_flash(request, response, "max_age must be a number of seconds.", kind="warning")
        return response
    extra = [line.strip() for line in str(form.get("extra_mx", "")).splitlines() if line.strip()]
    hosting = app_services(request).hosting
    change = hosting.edit(user, domain_id, max_age=int(text), extra_mx=extra)
    done = "The new policy is served under a new id; publish the TXT record shown below."
    return await _act(request, domain_id, done, change)


@router.post("/domains/{domain_id}/hosting/verify")
async def verify(request: Request, domain_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    hosting = app_services(request).hosting
    done = "The records were looked up just now; their status is below."
    return await _act(request, domain_id, done, hosting.verify(user, domain_id))


@router.post("/domains/{domain_id}/hosting/stop")
async def stop(request: Request, domain_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    hosting = app_services(request).hosting
    done = "Hosting is stopping: MailShield serves mode none until cached policies expire."
    return await _act(request, domain_id, done, hosting.stop(user, domain_id))


@router.get("/domains/{domain_id}/reports")
async def reports(request: Request, domain_id: int, user: SignedIn, days: int = 14) -> Response:
    app = app_services(request)
    domain = await app.domains.get(user, domain_id if 0 < domain_id < 2**63 else 0)
    window = days if days in (7, 14, 30, 90) else 14
    try:
        summary = await app.hosting.report_summary(user, domain.id, window)
        readiness = await app.hosting.readiness(user, domain.id)
        quarantined = await app.quarantine.entries(user, domain.id)
    except InvalidInput as exc:
        return await render(request, "error.html", status=400, title="Reports", message=exc.message)
    except AccountError as exc:
        return await render(
            request,
            "reports.html",
            status=403,
            domain=domain,
            summary=None,
            readiness=None,
            charts=None,
            quarantined=[],
            days=window,
            refusal=exc.message,
        )
    return await render(
        request,
        "reports.html",
        domain=domain,
        summary=summary,
        readiness=readiness,
        charts=report_charts(summary),
        quarantined=quarantined,
        days=window,
        refusal=None,
    )
