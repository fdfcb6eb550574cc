"""``/api/v1/domains/{id}/hosting`` and ``/reports``: hosted MTA-STS and TLS-RPT of a domain.

Both need the domain's ownership verified (403 ``ownership-required`` otherwise).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mailshield.interfaces.api.auth import ApiUser, Services
from mailshield.interfaces.api.hosting_schemas import (
    HostingOut,
    ModeChangeOut,
    ModeIn,
    PolicyIn,
    ReadinessOut,
    SummaryOut,
)
from mailshield.services.account_errors import NotFound

router = APIRouter(prefix="/domains/{domain_id}", tags=["hosting and reports"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/hosting", summary="Hosting status")
async def hosting_status(domain_id: Id, user: ApiUser, app: Services) -> HostingOut:
    """The hosted policy, the records to publish and what DNS shows for each."""
    view = await app.hosting.status(user, domain_id)
    if view is None:
        raise NotFound("MailShield does not host this domain's policy.")
    return HostingOut.of(view)


@router.post("/hosting", status_code=201, summary="Start hosting MTA-STS")
async def start_hosting(domain_id: Id, user: ApiUser, app: Services) -> HostingOut:
    """Serve a testing policy proposed from the live MX set; publish the returned records."""
    return HostingOut.of(await app.hosting.start(user, domain_id))


@router.post("/hosting/mode", summary="Change the policy mode")
async def set_mode(domain_id: Id, body: ModeIn, user: ApiUser, app: Services) -> ModeChangeOut:
    """``enforce`` passes the safe gate first (409 ``blocked`` with the reasons) unless forced."""
    change = await app.hosting.set_mode(user, domain_id, body.mode, force=body.force)
    return ModeChangeOut.of_change(change)


@router.patch("/hosting/policy", summary="Edit the policy")
async def edit_policy(domain_id: Id, body: PolicyIn, user: ApiUser, app: Services) -> HostingOut:
    """Change max_age or the extra mx patterns; a new body is served under a new id."""
    change = await app.hosting.edit(user, domain_id, max_age=body.max_age, extra_mx=body.extra_mx)
    return HostingOut.of(change.view)


@router.post("/hosting/verification", summary="Look at the published records now")
async def verify_hosting(domain_id: Id, user: ApiUser, app: Services) -> HostingOut:
    return HostingOut.of(await app.hosting.verify(user, domain_id))


@router.delete("/hosting", summary="Stop hosting (safely)")
async def stop_hosting(domain_id: Id, user: ApiUser, app: Services) -> HostingOut:
    """Serve ``mode: none`` until cached policies expire; ``removal`` says when records may go."""
    return HostingOut.of(await app.hosting.stop(user, domain_id))


@router.get("/reports/summary", summary="TLS-RPT summary")
async def report_summary(
    domain_id: Id,
    user: ApiUser,
    app: Services,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
) -> SummaryOut:
    """Sessions and failure rate per day, failures by type, organization, MX and sending IP."""
    return SummaryOut.of(await app.hosting.report_summary(user, domain_id, days))


@router.get("/reports/readiness", summary="Ready to enforce?")
async def readiness(domain_id: Id, user: ApiUser, app: Services) -> ReadinessOut:
    """The verdict from the last 14 days of reports, with what blocks it."""
    return ReadinessOut.of(await app.hosting.readiness(user, domain_id))
