"""Who is at the keyboard: the session cookie resolved to a user, once per request."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import Response

from mailshield.interfaces.api.container import AppServices
from mailshield.interfaces.web.security import cookie_names
from mailshield.services.sessions import LIFETIME
from mailshield.services.users import User

_UNSET = object()


class LoginRequired(Exception):
    """The page needs a signed-in user; ``next`` is where to return after logging in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def app_services(request: Request) -> AppServices:
    found: AppServices = request.app.state.services
    return found


async def current_user(request: Request) -> User | None:
    """The signed-in user, or ``None``."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is None or isinstance(cached, User):
        return cached
    secret = request.cookies.get(cookie_names(request).session, "")
    user = await app_services(request).sessions.user_for(secret) if secret else None
    request.state.user = user
    return user


async def require_user(request: Request) -> User:
    """The signed-in user; anyone else is sent to the log-in page and brought back after."""
    user = await current_user(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


SignedIn = Annotated[User, Depends(require_user)]
MaybeSignedIn = Annotated[User | None, Depends(current_user)]


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


def safe_next(value: str | None, default: str = "/domains") -> str:
    """A local path to return to; anything that could leave the site becomes ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    return value


async def start_session(request: Request, response: Response, user: User) -> None:
    """Log ``user`` in on this browser (a new session secret, never a reused one)."""
    names = cookie_names(request)
    secret = await app_services(request).sessions.open(user)
    names.set(response, names.session, secret, max_age=int(LIFETIME.total_seconds()))
    request.state.user = user


async def end_session(request: Request, response: Response, *, clear: bool = True) -> None:
    """End this browser's session; ``clear=False`` when a new one is set on ``response``."""
    names = cookie_names(request)
    secret = request.cookies.get(names.session)
    if secret:
        await app_services(request).sessions.close(secret)
    request.state.user = None
    if clear:
        names.clear(response, names.session)
