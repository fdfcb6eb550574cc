"""Spreading a bulk check over workers: how many, each one's share of the concurrency, how many
names each is handed at a time, and how the processes are started."""

from __future__ import annotations

import pytest

from mailshield.services.bulk_plan import (
    CHUNK_MAX,
    choose_workers,
    chunk_size,
    split_concurrency,
    start_method,
    take,
    wanted,
    worker_share,
)


@pytest.mark.parametrize(
    ("requested", "remaining", "concurrency", "expected"),
    [
        pytest.param(None, 10_000, 50, 4, id="default-one-per-cpu"),
        pytest.param(None, 99, 50, 1, id="default-short-list-stays-here"),
        pytest.param(None, 100, 50, 4, id="default-twice-concurrency-spreads"),
        pytest.param(2, 3, 50, 2, id="requested-honoured-on-short-list"),
        pytest.param(8, 10_000, 3, 3, id="no-more-than-concurrency"),
        pytest.param(8, 2, 50, 2, id="no-more-than-domains-left"),
        pytest.param(2, 0, 50, 1, id="nothing-left"),
        pytest.param(1, 10_000, 50, 1, id="one-means-this-process"),
    ],
)
def test_choose_workers(
    requested: int | None, remaining: int, concurrency: int, expected: int
) -> None:
    """The worker count follows the request or the CPUs, bounded by concurrency and work."""
    got = choose_workers(requested, cpus=4, remaining=remaining, concurrency=concurrency)
    assert got == expected


@pytest.mark.parametrize(
    ("total", "workers", "expected"),
    [
        pytest.param(50, 1, [50], id="one-worker-gets-all"),
        pytest.param(50, 2, [25, 25], id="even"),
        pytest.param(7, 3, [3, 2, 2], id="remainder-to-the-first"),
        pytest.param(2, 4, [1, 1, 1, 1], id="at-least-one-each"),
    ],
)
def test_split_concurrency(total: int, workers: int, expected: list[int]) -> None:
    """The total concurrency is shared out evenly, never leaving a worker with none."""
    assert split_concurrency(total, workers) == expected


def test_split_concurrency_keeps_the_total() -> None:
    """However many workers, the shares add up to the concurrency the user asked for."""
    for total in range(1, 60):
        for workers in range(1, total + 1):
            assert sum(split_concurrency(total, workers)) == total


@pytest.mark.parametrize(
    ("total", "workers", "expected"),
    [
        pytest.param(8, 1, 8, id="one-worker-keeps-all"),
        pytest.param(8, 2, 4, id="halves"),
        pytest.param(8, 3, 2, id="rounded-down-never-above-total"),
        pytest.param(1, 4, 1, id="at-least-one"),
    ],
)
def test_worker_share(total: int, workers: int, expected: int) -> None:
    """A run-wide limit becomes a per-process one whose sum stays within the total."""
    assert worker_share(total, workers) == expected


@pytest.mark.parametrize(
    ("concurrency", "expected"),
    [
        pytest.param(1, 1, id="one"),
        pytest.param(25, 25, id="as-concurrency"),
        pytest.param(5000, CHUNK_MAX, id="capped"),
    ],
)
def test_chunk_size(concurrency: int, expected: int) -> None:
    """A worker is handed as many names as it checks at once, up to a cap."""
    assert chunk_size(concurrency) == expected


@pytest.mark.parametrize(
    ("outstanding", "concurrency", "expected"),
    [
        pytest.param(0, 10, 20, id="empty-fills-to-concurrency-plus-chunk"),
        pytest.param(10, 10, 10, id="all-in-flight-gets-a-chunk"),
        pytest.param(11, 10, 0, id="less-than-a-chunk-due-waits"),
        pytest.param(20, 10, 0, id="full"),
        pytest.param(0, 1, 2, id="concurrency-one"),
        pytest.param(1, 1, 1, id="concurrency-one-busy"),
        pytest.param(5000, 5000, CHUNK_MAX, id="large-concurrency-capped-chunks"),
    ],
)
def test_wanted(outstanding: int, concurrency: int, expected: int) -> None:
    """Workers are topped up a whole chunk at a time, to their concurrency plus one chunk."""
    assert wanted(outstanding, concurrency) == expected


def test_take_stops_at_the_end() -> None:
    """Taking from an iterator returns at most the count and leaves the rest."""
    names = iter(["a", "b", "c"])
    assert take(names, 2) == ["a", "b"]
    assert take(names, 2) == ["c"]
    assert take(names, 2) == []


@pytest.mark.parametrize(
    ("threads", "loop_running", "expected"),
    [
        pytest.param(1, False, "fork", id="single-thread-forks"),
        pytest.param(2, False, "forkserver", id="another-thread"),
        pytest.param(1, True, "forkserver", id="inside-a-loop"),
    ],
)
def test_start_method(threads: int, loop_running: bool, expected: str) -> None:
    """Fork only from a process with one thread and no running loop."""
    assert start_method(threads=threads, loop_running=loop_running) == expected
