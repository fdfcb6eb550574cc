"""Counting a bulk run's outcomes: how many domains per status, and the worst one (for the exit
code). Constant memory whatever the number of domains."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from mailshield.core.model import Status, worst


@dataclass(slots=True)
class Tally:
    """Statuses of the domains checked so far."""

    counts: Counter[Status] = field(default_factory=Counter)

    def add(self, status: Status) -> None:
        """Count one more domain with ``status``."""
        self.counts[status] += 1

    @property
    def checked(self) -> int:
        """Domains counted."""
        return sum(self.counts.values())

    @property
    def worst(self) -> Status | None:
        """The most severe status seen, ``None`` before any."""
        seen = [status for status, count in self.counts.items() if count]
        return worst(seen) if seen else None
