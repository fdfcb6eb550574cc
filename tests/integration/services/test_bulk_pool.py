"""Worker processes for bulk checks, with a stand-in check (no network): every name comes back
exactly once, a crashed worker is reported with the names it held, and leaving early stops
every worker. Both start methods are exercised: fork (the usual one) and forkserver (used when
the caller has threads), where the check factory travels pickled."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailshield.core.model import Status
from mailshield.services.bulk_pool import Checked, WorkerPool
from mailshield.services.bulk_worker import Check
from mailshield.services.collector import MIDDLE_THRESHOLD, OLD_THRESHOLD, YOUNG_THRESHOLD

METHODS = [pytest.param("fork", id="fork"), pytest.param("forkserver", id="forkserver")]


@dataclass(frozen=True, slots=True)
class Echo:
    """A check factory: each domain comes back as its own line, failing if it starts with
    ``bad``; the process exits at once (a crash) on ``crash_on``, and ``hang_on`` never ends."""

    crash_on: str = ""
    hang_on: str = ""
    padding: int = 0  # extra characters per line

    def __call__(self) -> Check:
        async def check(domain: str) -> tuple[str, Status]:
            if domain == self.crash_on:
                os._exit(7)
            if domain == self.hang_on:
                await asyncio.Event().wait()
            await asyncio.sleep(0)  # let the other checks of the worker interleave
            return f"{domain}{' ' * self.padding}\n", Status.FAIL if domain.startswith(
                "bad"
            ) else Status.PASS

        return check


@dataclass(frozen=True, slots=True)
class CollectorState:
    """A check factory whose check reports the worker's collector settings as its line."""

    def __call__(self) -> Check:
        async def check(domain: str) -> tuple[str, Status]:
            return f"{gc.get_threshold()} {gc.get_freeze_count() > 0}\n", Status.PASS

        return check


def names(count: int, *extra: str, prefix: str = "d") -> Iterator[str]:
    """``d0.test`` … (or another prefix) and the extra names after them, lazily."""
    yield from (f"{prefix}{index}.test" for index in range(count))
    yield from extra


@pytest.mark.parametrize("method", METHODS)
def test_every_name_comes_back_once(method: str) -> None:
    """Five hundred names over two workers: each is reported exactly once, with its status."""
    seen: list[Checked] = []
    with WorkerPool.start(Echo(), [3, 2], event_loop="uvloop", method=method) as pool:
        lost = pool.run(names(500, "bad.test"), seen.append)
    assert lost == []
    assert sorted(c.domain for c in seen) == sorted(names(500, "bad.test"))
    assert all(c.text == f"{c.domain}\n" for c in seen)
    assert {c.domain for c in seen if c.status is Status.FAIL} == {"bad.test"}


@pytest.mark.parametrize("method", METHODS)
def test_workers_settle_their_collector_for_a_long_run(method: str) -> None:
    """Each worker freezes what it built before checking and spaces its collections out."""
    seen: list[Checked] = []
    with WorkerPool.start(CollectorState(), [1, 1], event_loop="uvloop", method=method) as pool:
        assert pool.run(names(4), seen.append) == []
    expected = f"{(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)} True\n"
    assert [c.text for c in seen] == [expected] * 4
    assert gc.get_threshold() != (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)  # not here


@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
def test_both_event_loops_carry_large_results(event_loop: str) -> None:
    """Workers run on either event loop, and results far larger than a socket's buffer (batches
    of megabytes) arrive whole."""
    seen: list[Checked] = []
    with WorkerPool.start(Echo(padding=100_000), [20, 20], event_loop=event_loop) as pool:
        assert pool.run(names(200), seen.append) == []
    assert sorted(c.domain for c in seen) == sorted(names(200))
    assert all(len(c.text) == len(c.domain) + 100_001 for c in seen)


def test_a_name_listed_twice_is_checked_twice() -> None:
    """Duplicates in the list are each checked, as a single process would."""
    seen: list[Checked] = []
    with WorkerPool.start(Echo(), [1, 1], event_loop="uvloop") as pool:
        assert pool.run(iter(["a.test", "a.test", "b.test"]), seen.append) == []
    assert sorted(c.domain for c in seen) == ["a.test", "a.test", "b.test"]


def test_an_empty_list_ends_at_once() -> None:
    """With nothing to check, the workers are told so and end cleanly."""
    with WorkerPool.start(Echo(), [2, 2], event_loop="uvloop") as pool:
        assert pool.run(iter(()), lambda _checked: None) == []


@pytest.mark.parametrize("method", METHODS)
def test_a_crashed_worker_is_reported_with_what_it_held(method: str) -> None:
    """A worker that dies mid-run is reported with its exit code and the names it held, none
    of which was reported; no name is reported twice or invented."""
    seen: list[str] = []
    with WorkerPool.start(
        Echo(crash_on="boom.test"), [2, 2], event_loop="uvloop", method=method
    ) as pool:
        listed = [*names(40, "boom.test", *names(400, prefix="e"))]
        lost = pool.run(iter(listed), lambda c: seen.append(c.domain))
    (crash,) = lost
    assert crash.exitcode == 7
    assert "boom.test" in crash.domains
    assert not set(seen) & set(crash.domains)
    assert len(seen) == len(set(seen))
    assert set(seen) | set(crash.domains) <= set(listed)
    # How many names the other worker got before the crash was noticed depends on timing.


def test_leaving_early_stops_every_worker() -> None:
    """An interruption while checks are running (here raised by the writer, as a Ctrl-C would
    be) stops the workers: none is left running, and the interruption goes on up."""
    pool = WorkerPool.start(Echo(hang_on="d0.test"), [2, 2], event_loop="uvloop")
    processes = pool.processes

    def interrupt(_checked: Checked) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), pool:
        pool.run(names(10), interrupt)
    assert len(processes) == 2
    assert all(not process.is_alive() for process in processes)
    assert all(process.exitcode is not None for process in processes)


ORPHANING_PARENT = """
import threading
from tests.integration.services.test_bulk_pool import Echo, names
from mailshield.services.bulk_pool import WorkerPool

def block(_checked):
    print("blocked", flush=True)
    threading.Event().wait()

pool = WorkerPool.start(Echo(hang_on="d1.test"), [1, 1], event_loop="uvloop")
print(*[process.pid for process in pool.processes], flush=True)
pool.run(names(10), block)
"""


def ended(pid: int) -> bool:
    """Whether process ``pid`` has exited (gone, or a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_workers_end_when_the_parent_dies() -> None:
    """Workers whose parent is killed (SIGKILL: nothing is cleaned up) end by themselves, the
    one mid-check as well as the one waiting for names."""
    with subprocess.Popen(
        [sys.executable, "-c", ORPHANING_PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert parent.stdout.readline() == "blocked\n"  # inside run: workers busy or waiting
        parent.kill()
    deadline = time.monotonic() + 30
    while not all(ended(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.01)  # polling /proc: an orphan's exit sends no event here
    assert all(ended(pid) for pid in workers)
