"""The public pages: "check your domain" and the report it leads to.

A check is a POST (it does work and stores a report), answered with a redirect to the report's
page (post/redirect/get), so reloading the report never runs the check again. Report links carry
a signature (``/checks/<id>-<signature>``): ids are sequential, and without the signature anyone
could walk through every domain other visitors checked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.report_view import report_view
from mailshield.interfaces.web.security import checked_form
from mailshield.interfaces.web.session import app_services
from mailshield.interfaces.web.signing import sign, verify
from mailshield.interfaces.web.templating import render
from mailshield.services.account_errors import InvalidInput, Throttled
from mailshield.services.domain_checks import CheckDeadlineExceeded

router = APIRouter(include_in_schema=False)

SIGNATURE_LENGTH = 16


def check_ref(request: Request, check_id: int) -> str:
    """The public reference of a stored check: its id and a signature of it."""
    secret = app_services(request).secret
    return f"{check_id}-{sign(secret, 'check', str(check_id), length=SIGNATURE_LENGTH)}"


def _check_id(request: Request, ref: str) -> int | None:
    number, _, signature = ref.partition("-")
    if not number.isdigit() or len(number) > 18:
        return None
    secret = app_services(request).secret
    if not verify(secret, "check", number, signature, length=SIGNATURE_LENGTH):
        return None
    return int(number)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/")
async def home(request: Request) -> Response:
    return await render(request, "home.html", domain="", error=None)


@router.post("/check")
async def run_check(request: Request) -> Response:
    """Run a public check, then send the browser to its report."""
    form = await checked_form(request)
    typed = str(form.get("domain", ""))
    try:
        stored = await app_services(request).checks.public_check(typed, client_address(request))
    except InvalidInput as exc:
        return await render(request, "home.html", status=400, domain=typed, error=exc.message)
    except Throttled as exc:
        response = await render(request, "home.html", status=429, domain=typed, error=exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except CheckDeadlineExceeded as exc:
        return await render(request, "home.html", status=504, domain=typed, error=str(exc))
    return RedirectResponse(f"/checks/{check_ref(request, stored.id)}", status_code=303)


@router.get("/checks/{ref}")
async def show_check(request: Request, ref: str) -> Response:
    check_id = _check_id(request, ref)
    report = await app_services(request).checks.stored(check_id) if check_id else None
    if report is None:
        return await render(
            request,
            "error.html",
            status=404,
            title="No such report",
            message="This report link is not valid. Check the domain again.",
        )
    return await render(
        request,
        "report.html",
        view=report_view(report),
        recheck=True,
        back=None,
        trend=None,
    )
