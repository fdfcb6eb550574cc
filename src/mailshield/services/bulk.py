"""Checking many domains in this process: bounded concurrency, results streamed as they complete.

Memory stays constant in the list size: domains are pulled from an iterator by a fixed number
of tasks and every result (a report, or whatever ``check`` returns) is handed to ``emit`` and
dropped. Spreading a list over worker processes is ``bulk_pool``'s job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

R = TypeVar("R")


async def check_many(
    check: Callable[[str], Awaitable[R]],
    domains: Iterable[str],
    emit: Callable[[R], None],
    *,
    concurrency: int,
) -> int:
    """Check every domain with at most ``concurrency`` at once; returns how many were checked."""
    source: Iterator[str] = iter(domains)
    done = 0

    async def one_at_a_time() -> None:
        nonlocal done
        for domain in source:  # each task pulls the next name when it is free
            emit(await check(domain))
            done += 1

    await asyncio.gather(*(one_at_a_time() for _ in range(max(1, concurrency))))
    return done
