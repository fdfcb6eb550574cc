"""Column types that behave the same on SQLite and PostgreSQL.

``UTCDateTime``: PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is
stored as naive UTC text. Either way, what comes back is an aware datetime in UTC, and a naive
datetime is refused on the way in rather than guessed at.

``JSONDocument``: ``jsonb`` on PostgreSQL (indexable, compact), JSON text elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime column."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused ({value.isoformat()}): give it a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_document() -> TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL; Python ``None`` is stored as SQL NULL."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def row_id() -> TypeEngine[int]:
    """A 64-bit surrogate key; plain INTEGER on SQLite so it aliases the auto-incrementing rowid."""
    return BigInteger().with_variant(Integer(), "sqlite")
