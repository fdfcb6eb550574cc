"""Certificate timing rules: renewal at 2/3 of the lifetime, backoff, what a name needs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.services.certificate_schedule import (
    BACKOFF_CAP,
    Need,
    backoff,
    need,
    renewal_time,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [
        pytest.param(90 * DAY, 60 * DAY, id="lets-encrypt-90-days"),
        pytest.param(6 * DAY, 4 * DAY, id="short-lived-6-days"),
        pytest.param(5 * 365 * DAY, dt.timedelta(days=1216, seconds=57600), id="pebble-5-years"),
    ],
)
def test_renewal_at_two_thirds_of_the_lifetime(
    lifetime: dt.timedelta, renew_after: dt.timedelta
) -> None:
    """Renewal falls when two thirds of the validity period have passed."""
    assert renewal_time(T0, T0 + lifetime) == T0 + renew_after


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        pytest.param(0, dt.timedelta(0), id="none"),
        pytest.param(1, 15 * MINUTE, id="first"),
        pytest.param(2, 30 * MINUTE, id="second"),
        pytest.param(4, 120 * MINUTE, id="fourth"),
        pytest.param(20, BACKOFF_CAP, id="capped"),
        pytest.param(10_000, BACKOFF_CAP, id="huge-count"),
    ],
)
def test_backoff_doubles_up_to_the_cap(failures: int, expected: dt.timedelta) -> None:
    """Each failure in a row doubles the wait, never beyond a day."""
    assert backoff(failures) == expected


@given(st.integers(min_value=1, max_value=10))
def test_backoff_keeps_under_five_failures_per_hour(first: int) -> None:
    """Failures spaced by the backoff never put 5 attempts within any hour (Let's Encrypt)."""
    times = [dt.timedelta(0)]
    for failures in range(first, first + 10):
        times.append(times[-1] + backoff(failures))
    for start in range(len(times)):
        within = [t for t in times[start:] if t - times[start] < dt.timedelta(hours=1)]
        assert len(within) < 5


@pytest.mark.parametrize(
    ("renew_at", "retry_at", "expected"),
    [
        pytest.param(None, None, Need.ISSUE, id="no-certificate"),
        pytest.param(T0 + DAY, None, Need.NOTHING, id="valid-certificate"),
        pytest.param(T0 - DAY, None, Need.RENEW, id="renewal-due"),
        pytest.param(T0, None, Need.RENEW, id="renewal-due-exactly-now"),
        pytest.param(None, T0 + MINUTE, Need.WAIT, id="backing-off-first-issue"),
        pytest.param(T0 - DAY, T0 + MINUTE, Need.WAIT, id="backing-off-renewal"),
        pytest.param(None, T0 - MINUTE, Need.ISSUE, id="backoff-over"),
        pytest.param(T0 + DAY, T0 + MINUTE, Need.NOTHING, id="valid-despite-old-failure"),
    ],
)
def test_what_a_name_needs(
    renew_at: dt.datetime | None, retry_at: dt.datetime | None, expected: Need
) -> None:
    """The certificate's renewal time and the backoff decide whether to order now."""
    assert need(T0, renew_at, retry_at) is expected
