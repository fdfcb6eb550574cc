"""``/api/v1/domains/{id}/reports/quarantine``: a domain's quarantined TLS reports.

Reports sent for the domain that could not be parsed: list them, download their bytes as they
arrived, parse one again. The domain's ownership must be verified (403 ``ownership-required``);
another account's domain or report is 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from mailshield.interfaces.api import pagination
from mailshield.interfaces.api.auth import ApiUser, Services
from mailshield.interfaces.web.quarantine_pages import download_response
from mailshield.services.ingest_model import IngestOutcome
from mailshield.services.ingest_quarantine import QuarantinedReport, reason_text

router = APIRouter(prefix="/domains/{domain_id}/reports/quarantine", tags=["hosting and reports"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of a page.")]
BYTES = {
    200: {
        "description": "The report's bytes exactly as they arrived (JSON, gzip or an e-mail).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class QuarantinedOut(BaseModel):
    id: int
    received_at: datetime
    channel: str
    kind: str
    reason: str
    reason_text: str
    detail: str
    size: int
    copies: int

    @classmethod
    def of(cls, entry: QuarantinedReport) -> QuarantinedOut:
        return cls(
            id=entry.id,
            received_at=entry.received_at,
            channel=entry.channel,
            kind=entry.kind,
            reason=entry.reason,
            reason_text=entry.reason_text,
            detail=entry.detail,
            size=entry.size,
            copies=entry.copies,
        )


class QuarantineList(BaseModel):
    items: list[QuarantinedOut]
    next_cursor: str | None


class ReprocessOut(BaseModel):
    """What became of the report: ``stored``, ``duplicate``, ``quarantined`` or ``failed``."""

    status: str
    detail: str
    reason: str | None
    reason_text: str | None
    report_id: int | None

    @classmethod
    def of(cls, outcome: IngestOutcome) -> ReprocessOut:
        quarantined = outcome.reason is not None
        return cls(
            status=outcome.disposition.value,
            detail=outcome.detail,
            reason=outcome.reason,
            reason_text=reason_text(outcome.reason) if quarantined else None,
            report_id=outcome.report_id,
        )


@router.get("", summary="List quarantined reports")
async def list_quarantined(
    domain_id: Id, user: ApiUser, app: Services, limit: Limit = 20, cursor: Cursor = None
) -> QuarantineList:
    """Reports sent for the domain that could not be parsed, newest first, with the reason."""
    before = pagination.decode("quarantine", cursor)
    entries = await app.quarantine.entries(user, domain_id, limit=limit + 1, before=before)
    more = len(entries) > limit
    items = [QuarantinedOut.of(e) for e in entries[:limit]]
    last = items[-1].id if more else None
    return QuarantineList(items=items, next_cursor=pagination.encode("quarantine", last))


@router.get(
    "/{raw_id}",
    summary="Download a quarantined report",
    response_class=Response,
    responses=BYTES,  # type: ignore[arg-type]
)
async def download_quarantined(domain_id: Id, raw_id: Id, user: ApiUser, app: Services) -> Response:
    """The bytes as they arrived, as an attachment (never rendered by a browser)."""
    return download_response(await app.quarantine.download(user, domain_id, raw_id))


@router.post("/{raw_id}/reprocess", summary="Parse a quarantined report again")
async def reprocess_quarantined(
    domain_id: Id, raw_id: Id, user: ApiUser, app: Services, request: Request
) -> ReprocessOut:
    """Parse the report again (after the sender or MailShield fixed something)."""
    intake = request.app.state.tlsrpt_intake
    return ReprocessOut.of(await app.quarantine.reprocess(user, domain_id, raw_id, intake))
