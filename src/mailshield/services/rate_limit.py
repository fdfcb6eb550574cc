"""A sliding-window rate limiter for one process (public checks per client address).

Each key keeps the times of its recent events; an event is allowed when fewer than ``limit``
happened in the last ``window`` seconds. Memory is bounded: keys whose events have all aged out
are dropped, and at :data:`MAX_KEYS` the oldest keys go first. Limits are per process; N
replicas behind a load balancer allow at most N times the limit, which is fine for a brake on
expensive public work.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 100_000


class RateLimiter:
    """``limit`` events per key per ``window`` seconds."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def acquire(self, key: str) -> float | None:
        """Count one event for ``key``; ``None`` if allowed, else seconds until one would be."""
        now = self._clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            self._events[key] = events
            return max(0.0, events[0] + self.window - now) if events else self.window
        events.append(now)
        self._events[key] = events
        self._trim()
        return None

    def _trim(self) -> None:
        while len(self._events) > MAX_KEYS:
            self._events.popitem(last=False)
