"""How a bulk check is spread over worker processes: how many, how much concurrency each, how
many names each is handed at a time, and how they are started.

``--concurrency`` is a total, split across the workers: it bounds what the run asks of the
resolvers, the MX hosts and the user's own network, so adding cores must not multiply it. A
user who sets ``--concurrency 50`` gets at most 50 domains in flight whatever ``--workers`` is.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

CHUNK_MAX = 128  # names per message to a worker: far below a pipe's buffer even at 253 bytes each


def choose_workers(requested: int | None, *, cpus: int, remaining: int, concurrency: int) -> int:
    """The number of worker processes: ``requested`` if given, else one per usable CPU; never
    more than the concurrency (each worker checks at least one domain at a time) nor than the
    domains left. Unrequested, a list shorter than twice the concurrency is checked in this
    process: starting workers would cost more than it saves."""
    if requested is None:
        requested = 1 if remaining < 2 * concurrency else cpus
    return max(1, min(requested, concurrency, remaining))


def split_concurrency(total: int, workers: int) -> list[int]:
    """``total`` concurrency shared out over ``workers`` as evenly as it goes (sums to ``total``;
    every worker gets at least one)."""
    base, extra = divmod(max(total, workers), workers)
    return [base + (1 if index < extra else 0) for index in range(workers)]


def worker_share(total: int, workers: int) -> int:
    """A per-process limit for each of ``workers`` out of a ``total`` meant for the whole run
    (e.g. connections to one MX address): never more than ``total`` together unless ``total`` is
    below ``workers``, and at least one each."""
    return max(1, total // workers)


def chunk_size(concurrency: int) -> int:
    """Names handed to a worker at once: as many as it checks at once, up to ``CHUNK_MAX``."""
    return max(1, min(concurrency, CHUNK_MAX))


def wanted(outstanding: int, concurrency: int) -> int:
    """How many names to hand a worker holding ``outstanding`` unreported ones: it is topped up to
    its concurrency plus one chunk, so it always has the next names at hand while checking, but
    only once a whole chunk is due (fewer, larger messages)."""
    chunk = chunk_size(concurrency)
    missing = concurrency + chunk - outstanding
    return missing if missing >= chunk else 0


def take(names: Iterator[str], count: int) -> list[str]:
    """The next ``count`` names (fewer when the iterator ends)."""
    return list(itertools.islice(names, count))


def start_method(*, threads: int, loop_running: bool) -> str:
    """``fork`` when this process has one thread and no running event loop (a forked child gets
    a copy of every module already imported, so it starts in milliseconds); else ``forkserver``,
    as a fork would copy another thread's locks or the loop's state mid-use."""
    return "fork" if threads == 1 and not loop_running else "forkserver"
