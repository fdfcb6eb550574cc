"""A per-run memo for probes: each key is computed once, concurrent askers share the computation.

One check run asks the same questions many times (the MX name's A record for MTA-STS, DANE and
the SMTP probe); asking the network once keeps the checker fast and polite. The memo lives as long
as the probe instance, which is one check run.

The first asker computes in its own task (no task per computation: a bulk run asks hundreds of
thousands of questions); whoever asks while it runs waits on a future of its own, so cancelling a
waiter touches nobody else. If the computing asker is cancelled, the waiters are not: the first of
them computes again and the rest wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Abandoned(Exception):
    """The computing asker was cancelled before it finished; a waiter takes over."""


class OnceMemo(Generic[K, V]):
    """Maps a key to the result of one computation; results are never recomputed."""

    def __init__(self) -> None:
        self._results: dict[K, V] = {}
        self._waiters: dict[K, list[asyncio.Future[V]]] = {}

    def __len__(self) -> int:
        return len(self._results) + len(self._waiters)

    def known(self, key: K) -> V | None:
        """The result for ``key`` if one is already there (no waiting, nothing started)."""
        return self._results.get(key)

    async def get(self, key: K, compute: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """The result for ``key``, running ``compute()`` only if nobody has yet.

        A computation that raises is forgotten, so the next caller retries; callers waiting for it
        get the same exception.
        """
        while True:
            try:
                return self._results[key]
            except KeyError:
                pass
            waiters = self._waiters.get(key)
            if waiters is None:
                return await self._compute(key, compute)
            waiter: asyncio.Future[V] = asyncio.get_running_loop().create_future()
            waiters.append(waiter)
            try:
                return await waiter
            except _Abandoned:
                continue

    async def _compute(self, key: K, compute: Callable[[], Coroutine[Any, Any, V]]) -> V:
        waiters: list[asyncio.Future[V]] = []
        self._waiters[key] = waiters
        try:
            value = await compute()
        except Exception as exc:
            del self._waiters[key]
            _settle(waiters, exc)
            raise
        except BaseException:  # cancelled (or the process is ending): a waiter computes again
            del self._waiters[key]
            _settle(waiters, _Abandoned())
            raise
        del self._waiters[key]
        self._results[key] = value
        for waiter in waiters:
            if not waiter.done():  # a cancelled waiter's future is done
                waiter.set_result(value)
        return value


def _settle(waiters: list[asyncio.Future[V]], exc: Exception) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(exc)
