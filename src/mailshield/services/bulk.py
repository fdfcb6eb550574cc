"""Checking many domains: bounded concurrency, results streamed as they complete.

Memory stays constant in the list size: domains are pulled from an iterator by a fixed number
of workers and every report is handed to ``emit`` and dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator

from mailshield.core.model import Report


async def check_many(
    check: Callable[[str], Awaitable[Report]],
    domains: Iterable[str],
    emit: Callable[[Report], None],
    *,
    concurrency: int,
) -> int:
    """Check every domain with at most ``concurrency`` at once; returns how many were checked."""
    source: Iterator[str] = iter(domains)
    done = 0

    async def worker() -> None:
        nonlocal done
        for domain in source:  # each worker pulls the next name when it is free
            emit(await check(domain))
            done += 1

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return done
