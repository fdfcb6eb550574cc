"""Policy ids: time and content in 22 characters, valid per RFC 8461 §3.1, never reused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.hosting.ids import new_policy_id
from mailshield.core.records.mta_sts import is_valid_id

NOON = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
BODY = "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 86400\r\n"
FIRST = new_policy_id(NOON, BODY)


@pytest.mark.parametrize(
    ("now", "body", "taken", "expected"),
    [
        (NOON, BODY, (), FIRST),
        (NOON.astimezone(timezone(timedelta(hours=2))), BODY, (), FIRST),
        (NOON, BODY, (FIRST,), FIRST + "2"),
        (NOON, BODY, (FIRST, FIRST + "2"), FIRST + "3"),
    ],
    ids=["plain", "any-zone-reads-as-utc", "taken-gets-a-counter", "counter-skips-taken"],
)
def test_new_policy_id(now: datetime, body: str, taken: tuple[str, ...], expected: str) -> None:
    """The id is the UTC time plus a body digest, with a counter when the id was used before."""
    assert new_policy_id(now, body, taken) == expected


def test_id_reads_time_then_digest() -> None:
    """The id starts with the UTC time written without separators."""
    assert FIRST.startswith("20260501120000")
    assert len(FIRST) == 22


def test_other_body_same_second_gets_another_id() -> None:
    """Two bodies made within the same second get different ids."""
    assert new_policy_id(NOON, BODY + "x") != FIRST


def test_naive_time_is_refused() -> None:
    """A time without a zone is refused rather than guessed at."""
    with pytest.raises(ValueError, match="time zone"):
        new_policy_id(NOON.replace(tzinfo=None), BODY)


@given(
    body=st.text(max_size=200),
    seconds=st.integers(min_value=0, max_value=10**9),
    reuse=st.integers(min_value=0, max_value=20),
)
def test_ids_are_valid_and_never_taken(body: str, seconds: int, reuse: int) -> None:
    """Whatever the body, time and history, the id is valid and not one already used."""
    now = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    taken: list[str] = []
    for _ in range(reuse + 1):
        taken.append(new_policy_id(now, body, taken))
    assert len(set(taken)) == len(taken)
    assert all(is_valid_id(i) for i in taken)
