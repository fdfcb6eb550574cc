"""Who is calling the JSON API: a personal token in ``Authorization: Bearer`` (RFC 6750 §2.1).

The API takes no cookies, so a browser session can never be ridden by another site (no CSRF
exposure). A missing or unknown token is a 401 problem with a ``WWW-Authenticate: Bearer``
challenge (RFC 6750 §3), ``error="invalid_token"`` when a token was presented.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mailshield.interfaces.api.container import AppServices
from mailshield.services.users import User

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token (create one on the dashboard's Account page).",
)


class ApiUnauthorized(Exception):
    """No usable token; ``presented`` says whether one was sent at all."""

    def __init__(self, presented: bool) -> None:
        super().__init__("unauthorized")
        self.presented = presented


def services(request: Request) -> AppServices:
    """The application's services (built at start-up)."""
    found: AppServices = request.app.state.services
    return found


Services = Annotated[AppServices, Depends(services)]


async def api_user(
    app: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The owner of the presented token."""
    if credentials is None:
        raise ApiUnauthorized(presented=False)
    user = await app.tokens.user_for(credentials.credentials)
    if user is None:
        raise ApiUnauthorized(presented=True)
    return user


ApiUser = Annotated[User, Depends(api_user)]


def challenge(presented: bool) -> str:
    """The ``WWW-Authenticate`` value for a 401."""
    value = 'Bearer realm="mailshield"'
    return value + ', error="invalid_token"' if presented else value
