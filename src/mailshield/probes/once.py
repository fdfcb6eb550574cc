"""A per-run memo for probes: each key is computed once, concurrent askers share the computation.

One check run asks the same questions many times (the MX name's A record for MTA-STS, DANE and
the SMTP probe); asking the network once keeps the checker fast and polite. The memo lives as long
as the probe instance, which is one check run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OnceMemo(Generic[K, V]):
    """Maps a key to the result of one computation; results are never recomputed."""

    def __init__(self) -> None:
        self._tasks: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    async def get(self, key: K, compute: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """The result for ``key``, starting ``compute()`` only if nobody has yet.

        A caller that is cancelled does not cancel the shared computation (other callers may
        still wait for it). A computation that raises is forgotten, so the next caller retries.
        """
        task = self._tasks.get(key)
        if task is not None and task.done():  # a failed one was forgotten when it ended
            return task.result()
        if task is None:
            task = asyncio.create_task(compute())
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._forget_failure(key, done))
        return await asyncio.shield(task)

    def _forget_failure(self, key: K, task: asyncio.Task[V]) -> None:
        if (task.cancelled() or task.exception() is not None) and self._tasks.get(key) is task:
            del self._tasks[key]
