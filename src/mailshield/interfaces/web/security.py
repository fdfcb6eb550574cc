"""Browser security: the session cookie, CSRF tokens, flash messages and response headers.

**Cookies.** The session cookie holds a server-side session's secret
(:mod:`mailshield.services.sessions`); it is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` with
the ``__Host-`` name prefix when the dashboard is served over HTTPS (RFC 6265bis §4.1.3.2:
such a cookie cannot be set by a sibling sub-domain). Visitors without a session get an
anonymous browser cookie of the same kind, so forms they fill before logging in (sign-up, log-in,
the public check) are protected too.

**CSRF.** Every form carries a synchronizer token bound to the browser: the HMAC of the session
(or anonymous) cookie under the instance secret. A POST whose token does not match the cookie
it came with is refused (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern",
HMAC-based variant), so another site cannot submit a form in the user's name.

**Headers.** A strict Content Security Policy (only our own scripts, styles and images; no
framing), ``nosniff``, ``Referrer-Policy: same-origin`` and no caching of pages with a session.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mailshield.interfaces.web.signing import sign, verify

CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


@dataclass(frozen=True, slots=True)
class CookieNames:
    """Cookie names and the ``Secure`` flag, by whether the site is served over HTTPS."""

    secure: bool

    @property
    def prefix(self) -> str:
        return "__Host-" if self.secure else ""

    @property
    def session(self) -> str:
        return self.prefix + "ms_session"

    @property
    def browser(self) -> str:
        return self.prefix + "ms_browser"

    @property
    def flash(self) -> str:
        return self.prefix + "ms_flash"

    def set(self, response: Response, name: str, value: str, *, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="lax")


class CsrfRejected(Exception):
    """A form arrived without the token of the browser that sent it."""


def cookie_names(request: Request) -> CookieNames:
    names: CookieNames = request.app.state.cookies
    return names


def csrf_binding(request: Request) -> str:
    """The cookie value CSRF tokens are bound to: the session, else the browser cookie."""
    names = cookie_names(request)
    found = (
        request.cookies.get(names.session)
        or request.cookies.get(names.browser)
        or getattr(request.state, "new_browser_id", "")
    )
    return str(found or "")


def csrf_token(request: Request) -> str:
    """The token forms on this page must carry."""
    return sign(request.app.state.services.secret, "csrf", csrf_binding(request))


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token matches this browser; else CsrfRejected."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    binding = csrf_binding(request)
    secret: bytes = request.app.state.services.secret
    if not binding or not isinstance(token, str) or not verify(secret, "csrf", binding, token):
        raise CsrfRejected
    return form


# -- flash messages: one short note carried across a redirect ---------------------------------


def set_flash(request: Request, response: Response, text: str, kind: str = "success") -> None:
    """Show ``text`` on the next page this browser renders."""
    payload = base64.urlsafe_b64encode(json.dumps([kind, text]).encode()).decode()
    signature = sign(request.app.state.services.secret, "flash", payload, length=32)
    names = cookie_names(request)
    names.set(response, names.flash, f"{payload}.{signature}", max_age=60)


def take_flash(request: Request) -> tuple[str, str] | None:
    """The pending flash message as (kind, text), if a valid one came with the request."""
    raw = request.cookies.get(cookie_names(request).flash)
    if not raw or "." not in raw:
        return None
    payload, _, signature = raw.rpartition(".")
    if not verify(request.app.state.services.secret, "flash", payload, signature, length=32):
        return None
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, binascii.Error, TypeError):
        return None
    request.state.flash_taken = True
    return str(kind), str(text)


# -- the middleware -----------------------------------------------------------------------------


async def browser_security(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Give new browsers their cookie, clear used flash messages, and add security headers."""
    names = cookie_names(request)
    new_id = None
    if not request.url.path.startswith(("/api/", "/static/")) and not (
        request.cookies.get(names.session) or request.cookies.get(names.browser)
    ):
        new_id = secrets.token_urlsafe(32)
        request.state.new_browser_id = new_id
    response = await call_next(request)
    if new_id is not None:
        names.set(response, names.browser, new_id, max_age=365 * 24 * 3600)
    if getattr(request.state, "flash_taken", False) and not _sets(response, names.flash):
        names.clear(response, names.flash)
    _headers(request, response)
    return response


def _sets(response: Response, cookie: str) -> bool:
    return any(h.startswith(cookie + "=") for h in response.headers.getlist("set-cookie"))


def _headers(request: Request, response: Response) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.url.path.startswith("/static/"):
        return
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    if headers.get("content-type", "").startswith("text/html"):
        headers.setdefault("Cache-Control", "no-store")
