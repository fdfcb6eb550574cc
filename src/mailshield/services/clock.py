"""The one clock type services take, so tests can set the time instead of waiting for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, time-zone aware, in UTC."""
    return datetime.now(UTC)
