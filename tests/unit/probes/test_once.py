"""The per-run memo: one computation per key, shared by concurrent askers."""

import asyncio

import pytest

from mailshield.probes.once import OnceMemo


async def test_concurrent_askers_share_one_computation() -> None:
    """Five callers asking at once start one computation and all get its result."""
    memo: OnceMemo[str, int] = OnceMemo()
    started = 0
    release = asyncio.Event()

    async def compute() -> int:
        nonlocal started
        started += 1
        await release.wait()
        return 42

    waiters = [asyncio.create_task(memo.get("k", compute)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == [42] * 5
    assert started == 1
    assert await memo.get("k", compute) == 42
    assert started == 1


async def test_keys_are_computed_separately() -> None:
    """Different keys get different computations."""
    memo: OnceMemo[str, str] = OnceMemo()

    async def echo(value: str) -> str:
        return value

    assert await memo.get("a", lambda: echo("a")) == "a"
    assert await memo.get("b", lambda: echo("b")) == "b"
    assert len(memo) == 2


async def test_a_cancelled_asker_does_not_cancel_the_others() -> None:
    """Cancelling one waiter leaves the shared computation running for the rest."""
    memo: OnceMemo[str, int] = OnceMemo()
    release = asyncio.Event()

    async def compute() -> int:
        await release.wait()
        return 7

    first = asyncio.create_task(memo.get("k", compute))
    second = asyncio.create_task(memo.get("k", compute))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 7
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_computation_is_forgotten() -> None:
    """An exception reaches the caller and the next caller computes again."""
    memo: OnceMemo[str, int] = OnceMemo()
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first time fails")
        return calls

    with pytest.raises(RuntimeError):
        await memo.get("k", flaky)
    assert await memo.get("k", flaky) == 2
