"""The Domains pages: the list with the plan's limit, one domain with its ownership proof, its
check history and score trend, and one stored check of it.

Every handler passes the signed-in user to the services, which return only that user's domains;
anyone else's id is answered like a missing one (404).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.charts import SCORE_BANDS, Point, line_chart
from mailshield.interfaces.web.report_view import report_view
from mailshield.interfaces.web.security import checked_form, set_flash
from mailshield.interfaces.web.session import SignedIn, app_services
from mailshield.interfaces.web.templating import render
from mailshield.services.account_domains import Domain, limit_message
from mailshield.services.account_errors import AccountError, Blocked, PlanLimitReached, Throttled
from mailshield.services.domain_checks import CheckDeadlineExceeded
from mailshield.storage.account_domains import CheckSummary

router = APIRouter(include_in_schema=False)

HISTORY = 30
MAX_ID = 2**63 - 1


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def _list_page(
    request: Request,
    user: SignedIn,
    *,
    status: int = 200,
    typed: str = "",
    error: str | None = None,
    limit_error: str | None = None,
) -> Response:
    """The list of the user's domains, their latest scores, and the add form."""
    app = app_services(request)
    page = await app.domains.page(user, limit=100)
    latest = {d.id: await _latest(request, user, d) for d in page.items}
    usage = await app.domains.usage(user)
    return await render(
        request,
        "domains.html",
        status=status,
        domains=page.items,
        latest=latest,
        usage=usage,
        limit_text=limit_message(usage.plan),
        typed=typed,
        error=error,
        limit_error=limit_error,
    )


async def _latest(request: Request, user: SignedIn, domain: Domain) -> CheckSummary | None:
    checks = await app_services(request).domains.checks(user, domain.id, limit=1)
    return checks[0] if checks else None


@router.get("/domains")
async def domains(request: Request, user: SignedIn) -> Response:
    return await _list_page(request, user)


@router.post("/domains")
async def add_domain(request: Request, user: SignedIn) -> Response:
    form = await checked_form(request)
    typed = str(form.get("domain", ""))
    try:
        domain = await app_services(request).domains.add(user, typed)
    except PlanLimitReached as exc:
        return await _list_page(request, user, status=403, typed=typed, limit_error=exc.message)
    except AccountError as exc:
        return await _list_page(request, user, status=400, typed=typed, error=exc.message)
    response = _see_other(f"/domains/{domain.id}")
    set_flash(request, response, f"{domain.name} is added. Prove that it is yours below.")
    return response


def _trend(domain_id: int, checks: list[CheckSummary]) -> object:
    points = [
        Point(
            label=f"{c.checked_at.day} {c.checked_at:%b %H:%M}",
            value=c.score,
            href=f"/domains/{domain_id}/checks/{c.id}",
            note=f"(grade {c.grade})",
        )
        for c in reversed(checks)
    ]
    return line_chart(
        points, title="Score over time", bands=SCORE_BANDS, ticks=(0, 50, 70, 90, 100)
    )


@router.get("/domains/{domain_id}")
async def domain_page(request: Request, domain_id: int, user: SignedIn) -> Response:
    app = app_services(request)
    domain = await app.domains.get(user, _bounded(domain_id))
    checks = await app.domains.checks(user, domain.id, limit=HISTORY)
    return await render(
        request,
        "domain.html",
        domain=domain,
        checks=checks,
        trend=_trend(domain.id, checks),
        policy_host=app.settings.policy_host,
        hosting=await app.hosting.status(user, domain.id),
        hosting_available=app.hosting.available,
    )


@router.post("/domains/{domain_id}/verify")
async def verify(request: Request, domain_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    domain = await app_services(request).domains.verify(user, _bounded(domain_id))
    response = _see_other(f"/domains/{domain.id}")
    if domain.ownership.verified:
        set_flash(request, response, f"Ownership of {domain.name} is verified.")
    else:
        set_flash(request, response, "The record is not visible yet.", kind="warning")
    return response


@router.post("/domains/{domain_id}/check")
async def check_now(request: Request, domain_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    try:
        stored = await app_services(request).checks.check_domain(user, _bounded(domain_id))
    except (Throttled, CheckDeadlineExceeded) as exc:
        response = _see_other(f"/domains/{domain_id}")
        set_flash(request, response, getattr(exc, "message", str(exc)), kind="warning")
        return response
    return _see_other(f"/domains/{domain_id}/checks/{stored.id}")


@router.post("/domains/{domain_id}/remove")
async def remove(request: Request, domain_id: int, user: SignedIn) -> Response:
    await checked_form(request)
    app = app_services(request)
    try:
        domain = await app.hosting.remove_domain(user, _bounded(domain_id))
    except Blocked as exc:
        response = _see_other(f"/domains/{domain_id}")
        set_flash(request, response, exc.message, kind="warning")
        return response
    response = _see_other("/domains")
    set_flash(request, response, f"{domain.name} is removed from your account.")
    return response


@router.get("/domains/{domain_id}/checks/{check_id}")
async def domain_check(request: Request, domain_id: int, check_id: int, user: SignedIn) -> Response:
    app = app_services(request)
    domain = await app.domains.get(user, _bounded(domain_id))
    report = await app.domains.check_report(user, domain.id, _bounded(check_id))
    return await render(
        request,
        "report.html",
        view=report_view(report),
        recheck=False,
        back=domain,
        trend=None,
    )


def _bounded(number: int) -> int:
    """Ids beyond 64 bits exist nowhere; 0 keeps them away from the database driver."""
    return number if 0 < number <= MAX_ID else 0
