"""UTCDateTime: aware UTC out, naive refused in, on both dialects — without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite

from mailshield.storage.columns import UTCDateTime

SQLITE = sqlite.dialect()
POSTGRES = postgresql.dialect()
COLUMN = UTCDateTime()
INSTANT = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        pytest.param(SQLITE, INSTANT.replace(tzinfo=None), id="sqlite-naive-utc"),
        pytest.param(POSTGRES, INSTANT, id="postgres-aware-utc"),
    ],
)
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(INSTANT, id="given-utc"),
        pytest.param(INSTANT.astimezone(timezone(timedelta(hours=-5))), id="given-minus-five"),
    ],
)
def test_bind_converts_to_utc(dialect: Dialect, expected: datetime, value: datetime) -> None:
    """Whatever zone a value is given in, the UTC instant is what is stored."""
    assert COLUMN.process_bind_param(value, dialect) == expected


@pytest.mark.parametrize(
    "dialect", [pytest.param(SQLITE, id="sqlite"), pytest.param(POSTGRES, id="postgres")]
)
def test_naive_value_is_refused(dialect: Dialect) -> None:
    """A naive datetime is an error, not silently local or UTC."""
    with pytest.raises(ValueError, match="naive datetime"):
        COLUMN.process_bind_param(datetime(2026, 1, 1), dialect)


@pytest.mark.parametrize(
    ("dialect", "stored"),
    [
        pytest.param(SQLITE, INSTANT.replace(tzinfo=None), id="sqlite-naive"),
        pytest.param(
            POSTGRES, INSTANT.astimezone(timezone(timedelta(hours=3))), id="postgres-aware"
        ),
    ],
)
def test_result_is_aware_utc(dialect: Dialect, stored: datetime) -> None:
    """Values read back carry the UTC zone on both databases."""
    read = COLUMN.process_result_value(stored, dialect)
    assert read == INSTANT
    assert read is not None
    assert read.tzinfo is UTC


def test_none_passes_through() -> None:
    """NULL stays NULL both ways."""
    assert COLUMN.process_bind_param(None, SQLITE) is None
    assert COLUMN.process_result_value(None, SQLITE) is None


offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(moment=st.datetimes(timezones=offsets))
def test_sqlite_round_trip_keeps_the_instant(moment: datetime) -> None:
    """For any aware datetime, storing and reading on SQLite gives the same instant in UTC."""
    stored = COLUMN.process_bind_param(moment, SQLITE)
    read = COLUMN.process_result_value(stored, SQLITE)
    assert read == moment
    assert read is not None
    assert read.tzinfo is UTC
