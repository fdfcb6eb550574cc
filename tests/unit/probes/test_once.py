"""The per-run memo: one computation per key, shared by concurrent askers."""

import asyncio

import pytest

from mailshield.probes.once import OnceMemo


class _Gated:
    """A computation that counts its starts and waits for ``release``; it returns its start count
    (or ``value``)."""

    def __init__(self, value: int | None = None) -> None:
        self.started = 0
        self.release = asyncio.Event()
        self._value = value

    async def __call__(self) -> int:
        self.started += 1
        await self.release.wait()
        return self.started if self._value is None else self._value


async def test_concurrent_askers_share_one_computation() -> None:
    """Five callers asking at once start one computation and all get its result."""
    memo: OnceMemo[str, int] = OnceMemo()
    compute = _Gated(42)
    waiters = [asyncio.create_task(memo.get("k", compute)) for _ in range(5)]
    await asyncio.sleep(0)
    compute.release.set()
    assert await asyncio.gather(*waiters) == [42] * 5
    assert compute.started == 1
    assert await memo.get("k", compute) == 42
    assert compute.started == 1


async def test_keys_are_computed_separately() -> None:
    """Different keys get different computations."""
    memo: OnceMemo[str, str] = OnceMemo()

    async def echo(value: str) -> str:
        return value

    assert await memo.get("a", lambda: echo("a")) == "a"
    assert await memo.get("b", lambda: echo("b")) == "b"
    assert len(memo) == 2


async def test_a_cancelled_waiter_does_not_cancel_the_computation() -> None:
    """Cancelling an asker that waits for another's computation leaves it running for the rest."""
    memo: OnceMemo[str, int] = OnceMemo()
    compute = _Gated(7)
    computing = asyncio.create_task(memo.get("k", compute))
    waiting = asyncio.create_task(memo.get("k", compute))
    other = asyncio.create_task(memo.get("k", compute))
    await asyncio.sleep(0)
    waiting.cancel()
    compute.release.set()
    assert (await computing, await other) == (7, 7)
    assert compute.started == 1
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_waiter_takes_over_when_the_computing_asker_is_cancelled() -> None:
    """The computing asker's cancellation reaches it alone: one waiter computes again and the
    other waiters get that result."""
    memo: OnceMemo[str, int] = OnceMemo()
    compute = _Gated()
    first = asyncio.create_task(memo.get("k", compute))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(memo.get("k", compute)) for _ in range(3)]
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    compute.release.set()
    assert await asyncio.gather(*rest) == [2, 2, 2]
    assert compute.started == 2
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await memo.get("k", compute) == 2


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


async def test_waiters_get_the_failure_of_the_computation_they_wait_for() -> None:
    """Askers waiting for a computation that raises get its exception; nothing is remembered."""
    memo: OnceMemo[str, int] = OnceMemo()
    release = asyncio.Event()

    async def failing() -> int:
        await release.wait()
        raise LookupError("no")

    askers = [asyncio.create_task(memo.get("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(*askers, return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [LookupError] * 3
    assert len(memo) == 0


async def test_known_gives_a_result_only_once_there_is_one() -> None:
    """``known`` neither waits nor starts anything: nothing before or during the computation,
    the result after it."""
    memo: OnceMemo[str, int] = OnceMemo()
    compute = _Gated(5)
    assert memo.known("k") is None
    asker = asyncio.create_task(memo.get("k", compute))
    await asyncio.sleep(0)
    assert memo.known("k") is None
    compute.release.set()
    assert await asker == 5
    assert memo.known("k") == 5
    assert compute.started == 1
