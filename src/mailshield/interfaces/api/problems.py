"""Errors of the JSON API as problem details (RFC 9457), ``application/problem+json``.

Every error answer under ``/api/`` is a problem object: ``type`` (a URI naming the kind of
problem; ``about:blank`` when the HTTP status says it all, RFC 9457 §4.2.1), ``title``,
``status``, ``detail`` and ``instance`` (§3.1), plus extension members where they help the
client: ``errors`` for invalid input, ``plan`` and ``limit`` at the plan limit. MailShield's own
problem types are documented at ``/problems/<slug>`` on the instance (§3.1.1 says a type URI
should lead to documentation for humans).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from mailshield.services.account_errors import (
    AccountError,
    BadCredentials,
    Blocked,
    Conflict,
    InvalidInput,
    InvalidResetLink,
    NotFound,
    OwnershipRequired,
    PlanLimitReached,
    SignupClosed,
    Throttled,
    Unavailable,
)

MEDIA_TYPE = "application/problem+json"

PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "invalid-input": (
        "Invalid input",
        "A value in the request is missing or not acceptable. The `errors` member lists each "
        "one with its location and the reason.",
    ),
    "plan-limit": (
        "Plan limit reached",
        "The account's plan holds no more domains. Remove a domain, or move to a larger plan. "
        "`plan` names the plan and `limit` its number of domains.",
    ),
    "conflict": (
        "Already exists",
        "The resource exists already (for example, the domain is in the account's list).",
    ),
    "rate-limited": (
        "Too many requests",
        "Checks are limited per client address and per account. Wait for the number of "
        "seconds in the `Retry-After` header and try again.",
    ),
    "ownership-required": (
        "Ownership not verified",
        "Hosting a domain's MTA-STS policy and reading its TLS reports need proof that the "
        "account controls the domain's DNS: publish the TXT record from `ownership.records` and "
        "ask for a verification.",
    ),
    "blocked": (
        "Refused for safety",
        "The change is refused now, for example moving to enforce while an MX is not covered "
        "or serves an invalid certificate. `reasons` lists each blocker; `risk` says what "
        "forcing it would risk.",
    ),
    "invalid-cursor": (
        "Invalid cursor",
        "The `cursor` parameter was not one this API handed out. Start again without it.",
    ),
}


class Problem(BaseModel):
    """A problem details object (RFC 9457 §3)."""

    type: str = Field("about:blank", description="URI of the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="HTTP status code.")
    detail: str | None = Field(None, description="What went wrong this time, for people.")
    instance: str | None = Field(None, description="The request path it happened at.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="For invalid input: each problem with its location."
    )
    plan: str | None = Field(None, description="At the plan limit: the account's plan.")
    limit: int | None = Field(None, description="At the plan limit: domains the plan holds.")
    reasons: list[str] | None = Field(None, description="When blocked: each blocker.")
    risk: str | None = Field(None, description="When blocked: what forcing it would risk.")


def type_uri(request: Request, slug: str) -> str:
    """The absolute URI of one of MailShield's problem types on this instance."""
    return str(request.url_for("problem_type", slug=slug))


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response; ``slug`` picks one of :data:`PROBLEM_TYPES`."""
    if slug is not None:
        kind, title = type_uri(request, slug), PROBLEM_TYPES[slug][0]
    else:
        kind, title = "about:blank", HTTPStatus(status).phrase
    body = Problem(
        type=kind,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        **extensions,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def account_problem(request: Request, error: AccountError) -> JSONResponse:
    """The problem for a refusal of the account services."""
    if isinstance(error, InvalidInput):
        errors = [{"loc": ["body", error.field] if error.field else ["body"], "msg": error.message}]
        return problem_response(request, 422, error.message, slug="invalid-input", errors=errors)
    if isinstance(error, PlanLimitReached):
        return problem_response(
            request, 403, error.message, slug="plan-limit", plan=error.plan, limit=error.limit
        )
    if isinstance(error, Conflict):
        return problem_response(request, 409, error.message, slug="conflict")
    if isinstance(error, Throttled):
        headers = {"Retry-After": str(error.retry_after)}
        return problem_response(request, 429, error.message, slug="rate-limited", headers=headers)
    if isinstance(error, OwnershipRequired):
        return problem_response(request, 403, error.message, slug="ownership-required")
    if isinstance(error, Blocked):
        return problem_response(
            request,
            409,
            error.message,
            slug="blocked",
            reasons=list(error.reasons),
            risk=error.risk or None,
        )
    if isinstance(error, Unavailable):
        return problem_response(request, 503, error.message)
    if isinstance(error, NotFound):
        return problem_response(request, 404, error.message)
    if isinstance(error, BadCredentials | InvalidResetLink):
        return problem_response(request, 400, error.message)
    if isinstance(error, SignupClosed):
        return problem_response(request, 403, error.message)
    return problem_response(request, 400, error.message)
