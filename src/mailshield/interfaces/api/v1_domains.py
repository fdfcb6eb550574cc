"""``/api/v1/domains``: the account's domains, their ownership proof and their check history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from mailshield.interfaces.api import pagination
from mailshield.interfaces.api.auth import ApiUser, Services
from mailshield.interfaces.api.schemas import (
    CheckList,
    CheckSummaryOut,
    DomainIn,
    DomainList,
    DomainOut,
    ReportOut,
    StoredCheckOut,
)

router = APIRouter(prefix="/domains", tags=["domains"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of a page.")]


@router.get("", summary="List domains")
async def list_domains(
    user: ApiUser, app: Services, limit: Limit = pagination.DEFAULT_LIMIT, cursor: Cursor = None
) -> DomainList:
    """The account's domains in the order they were added, one page at a time."""
    after = pagination.decode("domains", cursor)
    page = await app.domains.page(user, limit=limit, after=after)
    host = app.settings.policy_host
    return DomainList(
        items=[DomainOut.of(d, host) for d in page.items],
        next_cursor=pagination.encode("domains", page.next_after),
    )


@router.post("", status_code=201, summary="Add a domain")
async def add_domain(
    body: DomainIn, user: ApiUser, app: Services, request: Request, response: Response
) -> DomainOut:
    """Add a domain (within the plan's limit); publish one of its ``ownership.records``."""
    domain = await app.domains.add(user, body.name)
    response.headers["Location"] = str(request.url_for("get_domain", domain_id=domain.id))
    return DomainOut.of(domain, app.settings.policy_host)


@router.get("/{domain_id}", summary="Get a domain")
async def get_domain(domain_id: Id, user: ApiUser, app: Services) -> DomainOut:
    return DomainOut.of(await app.domains.get(user, domain_id), app.settings.policy_host)


@router.delete("/{domain_id}", status_code=204, summary="Remove a domain")
async def remove_domain(domain_id: Id, user: ApiUser, app: Services) -> Response:
    """Remove a domain from the account (409 while MailShield still hosts its policy)."""
    await app.hosting.remove_domain(user, domain_id)
    return Response(status_code=204)


@router.post("/{domain_id}/verification", summary="Look for the ownership proof now")
async def verify_domain(domain_id: Id, user: ApiUser, app: Services) -> DomainOut:
    """Query DNS for the TXT token or the MTA-STS CNAME and record what was seen."""
    return DomainOut.of(await app.domains.verify(user, domain_id), app.settings.policy_host)


@router.get("/{domain_id}/checks", summary="List a domain's checks")
async def list_checks(
    domain_id: Id,
    user: ApiUser,
    app: Services,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CheckList:
    """Stored checks of the domain, newest first: score, grade and overall status."""
    before = pagination.decode("checks", cursor)
    checks = await app.domains.checks(user, domain_id, limit=limit + 1, before=before)
    more = len(checks) > limit
    items = [CheckSummaryOut.of(c) for c in checks[:limit]]
    return CheckList(
        items=items, next_cursor=pagination.encode("checks", items[-1].id if more else None)
    )


@router.post("/{domain_id}/checks", status_code=201, summary="Check a domain now")
async def run_check(domain_id: Id, user: ApiUser, app: Services) -> StoredCheckOut:
    """Run every check on the domain now (takes seconds) and store the report."""
    stored = await app.checks.check_domain(user, domain_id)
    return StoredCheckOut(id=stored.id, report=ReportOut.of(stored.report))


@router.get("/{domain_id}/checks/{check_id}", summary="Get one check report")
async def get_check(domain_id: Id, check_id: Id, user: ApiUser, app: Services) -> ReportOut:
    """The full report: every protocol's findings, with messages and fixes."""
    return ReportOut.of(await app.domains.check_report(user, domain_id, check_id))
