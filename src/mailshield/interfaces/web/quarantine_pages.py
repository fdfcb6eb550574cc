"""Quarantined TLS reports of a domain: download the bytes, ask for re-processing.

The list itself is on the domain's reports page (``hosting_pages.reports``). Every action goes
through :class:`~mailshield.services.ingest_quarantine.DomainQuarantine` with the signed-in
user: another tenant's domain or report is a 404 page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mailshield.interfaces.web.security import checked_form, set_flash
from mailshield.interfaces.web.session import SignedIn, app_services
from mailshield.services.ingest_model import Disposition, IngestOutcome
from mailshield.services.ingest_quarantine import QuarantinedFile, reason_text

router = APIRouter(include_in_schema=False)

MAX_ID = 2**63 - 1


def _id(value: int) -> int:
    """``value`` when it can be a row id, else 0 (which matches nothing)."""
    return value if 0 < value <= MAX_ID else 0


def download_response(found: QuarantinedFile) -> Response:
    """The bytes as they arrived, as a download: never rendered, never sniffed, never cached."""
    headers = {
        "Content-Disposition": f'attachment; filename="{found.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    return Response(found.data, media_type="application/octet-stream", headers=headers)


def outcome_text(outcome: IngestOutcome) -> str:
    """What re-processing did, in a sentence."""
    if outcome.disposition is Disposition.STORED:
        return f"Re-processed: the report is now stored ({outcome.detail})."
    if outcome.disposition is Disposition.DUPLICATE:
        return "Re-processed: the report was already stored; this copy is counted."
    if outcome.disposition is Disposition.QUARANTINED:
        detail = f" (parser: {outcome.detail})" if outcome.detail else ""
        return f"Still in quarantine: {reason_text(outcome.reason)}{detail}"
    return f"Re-processing failed: {outcome.detail}"


@router.get("/domains/{domain_id}/reports/quarantine/{raw_id}")
async def download(domain_id: int, raw_id: int, user: SignedIn, request: Request) -> Response:
    quarantine = app_services(request).quarantine
    return download_response(await quarantine.download(user, _id(domain_id), _id(raw_id)))


@router.post("/domains/{domain_id}/reports/quarantine/{raw_id}/reprocess")
async def reprocess(domain_id: int, raw_id: int, user: SignedIn, request: Request) -> Response:
    await checked_form(request)
    quarantine = app_services(request).quarantine
    intake = request.app.state.tlsrpt_intake
    outcome = await quarantine.reprocess(user, _id(domain_id), _id(raw_id), intake)
    response = RedirectResponse(f"/domains/{domain_id}/reports#quarantine", status_code=303)
    kind = "success" if outcome.disposition is not Disposition.QUARANTINED else "warning"
    set_flash(request, response, outcome_text(outcome)[:1200], kind=kind)
    return response
