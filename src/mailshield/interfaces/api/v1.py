"""The ``/api/v1`` router and its OpenAPI document.

Every route needs a bearer token. Error answers are RFC 9457 problems; the OpenAPI document
says so (``application/problem+json`` with the :class:`Problem` schema for every 4xx/5xx), so a
generated client and a schema-driven fuzzer see what the server really sends.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from mailshield.interfaces.api import (
    v1_account,
    v1_checks,
    v1_domains,
    v1_hosting,
    v1_quarantine,
)
from mailshield.interfaces.api.problems import MEDIA_TYPE, Problem

PREFIX = "/api/v1"


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed request (for example an invalid cursor)."),
    401: _problem("No valid API token in `Authorization: Bearer`."),
    404: _problem("No such resource in this account (another account's looks the same)."),
    422: _problem("Invalid input; `errors` lists each problem."),
}
DOMAIN_ERRORS: dict[int | str, dict[str, Any]] = {
    403: _problem("The plan holds no more domains (`plan-limit`)."),
    409: _problem("The domain is in the account already."),
}
CHECK_ERRORS: dict[int | str, dict[str, Any]] = {
    429: _problem("Too many checks; see `Retry-After`."),
    504: _problem("The check took too long and was stopped."),
}


HOSTING_ERRORS: dict[int | str, dict[str, Any]] = {
    403: _problem("The domain's ownership is not verified yet (`ownership-required`)."),
    409: _problem("Refused now: already hosted, or not safe (`blocked`, with `reasons`)."),
    503: _problem("This instance does not host MTA-STS policies."),
}


def router() -> APIRouter:
    """Every ``/api/v1`` route."""
    api = APIRouter(prefix=PREFIX, responses=COMMON_ERRORS)
    api.include_router(v1_account.router)
    api.include_router(
        v1_domains.router, responses={**DOMAIN_ERRORS, **CHECK_ERRORS, 503: HOSTING_ERRORS[503]}
    )
    api.include_router(v1_checks.router, responses=CHECK_ERRORS)
    api.include_router(v1_hosting.router, responses={**HOSTING_ERRORS, **CHECK_ERRORS})
    api.include_router(v1_quarantine.router, responses={403: HOSTING_ERRORS[403]})
    return api


def install_openapi(app: FastAPI) -> None:
    """Serve an OpenAPI document whose error responses are problem+json."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _problems_as_problem_json(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problems_as_problem_json(document: dict[str, Any]) -> dict[str, Any]:
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in document.get("paths", {}).items():
        if not path.startswith(PREFIX):
            continue
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status[:1] not in ("4", "5"):
                    continue
                content = response.setdefault("content", {})
                content.pop("application/json", None)
                content[MEDIA_TYPE] = {"schema": problem_ref}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'/schemas/{unused}"' not in json.dumps(document["paths"]):
            schemas.pop(unused, None)
    return document
