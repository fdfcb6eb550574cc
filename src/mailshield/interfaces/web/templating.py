"""The Jinja2 environment of the dashboard and the one function pages render through.

Autoescaping is on for every template. Each page gets the signed-in user, the CSRF token for its
forms, the pending flash message, and helpers: status labels and icons, check titles, dates.
Static files are linked with a version query so a new release is never served a stale script.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mailshield import __version__
from mailshield.core.checks import check_title
from mailshield.core.model import Status
from mailshield.interfaces.web.report_view import (
    STATUS_ICONS,
    STATUS_LABELS,
    grade_class,
)
from mailshield.interfaces.web.security import CSRF_FIELD, csrf_token, take_flash
from mailshield.interfaces.web.session import current_user


def _status(value: Status | str) -> Status:
    return value if isinstance(value, Status) else Status(value)


def _when(value: datetime | None, style: str = "long") -> str:
    """A UTC time for people: ``3 May 2026, 14:05 UTC`` (or ``3 May 2026`` when short)."""
    if value is None:
        return "never"
    moment = value.astimezone(UTC)
    day = f"{moment.day} {moment:%b %Y}"
    return day if style == "date" else f"{day}, {moment:%H:%M} UTC"


def _when_short(value: datetime) -> str:
    moment = value.astimezone(UTC)
    return f"{moment.day} {moment:%b} {moment:%H:%M}"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mailshield.interfaces.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["status_label"] = lambda s: STATUS_LABELS[_status(s)]
    env.filters["status_icon"] = lambda s: STATUS_ICONS[_status(s)]
    env.filters["status_value"] = lambda s: _status(s).value
    env.filters["check_title"] = check_title
    env.filters["grade_class"] = grade_class
    env.filters["when"] = _when
    env.filters["when_short"] = _when_short
    env.globals["version"] = __version__
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["Status"] = Status
    return env


_ENV = environment()


def static_url(path: str) -> str:
    return f"/static/{path}?v={__version__}"


_ENV.globals["static"] = static_url


async def render(
    request: Request, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """The page ``template`` with the common context; ``status`` for error and form pages."""
    common = {
        "request": request,
        "user": await current_user(request),
        "csrf_token": csrf_token(request),
        "flash": take_flash(request),
        "signup_enabled": request.app.state.services.accounts.signup_enabled,
        "path": request.url.path,
    }
    html = _ENV.get_template(template).render({**common, **context})
    return HTMLResponse(html, status_code=status)
