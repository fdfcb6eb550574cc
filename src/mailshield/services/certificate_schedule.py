"""When a name needs a certificate order: first issue, renewal at 2/3 of the lifetime, backoff.

Pure rules, no I/O and no clock (the caller passes ``now``):

- **Renewal** at two thirds of the certificate's lifetime (Let's Encrypt's own guidance for
  90-day certificates is 30 days before expiry, which is the same point; for shorter lifetimes
  the fraction keeps a third of the lifetime to retry in).
- **Backoff** after a failed order: ``base * 2^(failures-1)``, capped. With the default 15-minute
  base, failures in a row happen at most at t = 0, 15, 45, 105 min…, i.e. three in the first hour,
  below Let's Encrypt's limit of 5 failed validations per host name per hour.
"""

from __future__ import annotations

import datetime as dt
import enum

RENEW_FRACTION = 2 / 3
BACKOFF_BASE = dt.timedelta(minutes=15)
BACKOFF_CAP = dt.timedelta(hours=24)


class Need(enum.Enum):
    """What a name needs from the certificate manager right now."""

    NOTHING = "nothing"
    ISSUE = "issue"  # no certificate yet
    RENEW = "renew"  # the current one passed its renewal time
    WAIT = "wait"  # an order is due but the backoff after a failure has not passed


def renewal_time(not_before: dt.datetime, not_after: dt.datetime) -> dt.datetime:
    """The moment two thirds of the lifetime ``not_before``..``not_after`` have passed."""
    return not_before + (not_after - not_before) * RENEW_FRACTION


def backoff(
    failures: int, *, base: dt.timedelta = BACKOFF_BASE, cap: dt.timedelta = BACKOFF_CAP
) -> dt.timedelta:
    """How long to wait after the ``failures``-th failed order in a row (1, 2, …)."""
    if failures < 1:
        return dt.timedelta(0)
    exponent = min(failures - 1, 32)  # 2^32 bases is far past any cap; keeps the number small
    return min(base * (1 << exponent), cap)


def need(now: dt.datetime, renew_at: dt.datetime | None, retry_at: dt.datetime | None) -> Need:
    """What a name needs, from its renewal time (``None``: no certificate) and backoff end."""
    if renew_at is not None and now < renew_at:
        return Need.NOTHING
    if retry_at is not None and now < retry_at:
        return Need.WAIT
    return Need.ISSUE if renew_at is None else Need.RENEW
