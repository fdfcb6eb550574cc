"""Which names each worker process holds: handed to it, not yet reported back.

The parent writes a domain's line only when its worker reports it, so a name is in exactly one
of three places: not yet handed out, held by one worker, or written. When a worker ends, what
it still holds was neither checked nor written; the ledger names those domains so the loss is
reported, never silent, and a resumed run checks them (they have no line in the output).
Memory is bounded by what the workers hold (concurrency plus a chunk each), not the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


class UnexpectedResult(Exception):
    """A worker reported a domain it was not holding (a duplicate or a stranger)."""

    def __init__(self, worker: int, domain: str) -> None:
        super().__init__(f"worker {worker} reported {domain!r}, which it was not checking")
        self.worker, self.domain = worker, domain


@dataclass(slots=True)
class Ledger:
    """Names held per worker; a name reported back leaves the ledger."""

    held: dict[int, dict[str, int]] = field(default_factory=dict)
    sizes: dict[int, int] = field(default_factory=dict)

    def hand(self, worker: int, names: Iterable[str]) -> None:
        """Note ``names`` as handed to ``worker`` (a name listed twice is held twice)."""
        mine = self.held.setdefault(worker, {})
        for name in names:
            mine[name] = mine.get(name, 0) + 1
            self.sizes[worker] = self.sizes.get(worker, 0) + 1

    def report(self, worker: int, domain: str) -> None:
        """Note ``domain`` as reported by ``worker``; raises UnexpectedResult if it held none."""
        mine = self.held.get(worker, {})
        count = mine.get(domain, 0)
        if count == 0:
            raise UnexpectedResult(worker, domain)
        if count == 1:
            del mine[domain]
        else:
            mine[domain] = count - 1
        self.sizes[worker] -= 1

    def holding(self, worker: int) -> int:
        """How many names ``worker`` holds."""
        return self.sizes.get(worker, 0)

    def release(self, worker: int) -> list[str]:
        """Forget ``worker`` (it has ended); returns the names it still held, in handing order."""
        self.sizes.pop(worker, None)
        mine = self.held.pop(worker, {})
        return [name for name, count in mine.items() for _ in range(count)]
