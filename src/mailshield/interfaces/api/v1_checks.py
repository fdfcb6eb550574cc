"""``/api/v1/checks``: check any domain (not only the account's), limited per account."""

from __future__ import annotations

from fastapi import APIRouter

from mailshield.interfaces.api.auth import ApiUser, Services
from mailshield.interfaces.api.schemas import CheckIn, ReportOut, StoredCheckOut

router = APIRouter(prefix="/checks", tags=["checks"])


@router.post("", status_code=201, summary="Check any domain")
async def check(body: CheckIn, user: ApiUser, app: Services) -> StoredCheckOut:
    """Run every check on ``domain`` now (takes seconds) and return the stored report."""
    stored = await app.checks.check_name(user, body.domain)
    return StoredCheckOut(id=stored.id, report=ReportOut.of(stored.report))
