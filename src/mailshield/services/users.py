"""The acting user: what every tenant-scoped service call takes first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailshield.storage.accounts import UserRecord


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in user (never carries the password hash)."""

    id: int
    email: str
    created_at: datetime


def user_from(record: UserRecord | None) -> User | None:
    """The public view of a stored user."""
    if record is None:
        return None
    return User(record.id, record.email, record.created_at)
