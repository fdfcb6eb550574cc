"""Group commit: many concurrent writes, one transaction, each caller answered after it.

A single writer task takes every decision waiting in the queue (up to ``batch_size``) and
writes them with one :meth:`ReportStore.write` call, so N concurrent reports cost one commit
instead of N (SQLite has one writer anyway). Decisions may also be prepared rows
(:class:`PreparedReport`, from a bulk import on SQLite). Every caller's future is resolved only
after the commit returned. When a batch fails, each decision is retried alone so one bad
report cannot fail the others; a decision that still fails resolves to the exception (nothing
was committed for it, and the caller must not acknowledge it); a report whose rows cannot be
written is quarantined with its raw bytes instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from mailshield.storage.reports import (
    KeepReport,
    PreparedReport,
    Quarantine,
    RawArrival,
    ReportStore,
    Split,
    Written,
)

__all__ = ["GroupCommit"]

log = logging.getLogger(__name__)

Decision = KeepReport | Quarantine | Split | PreparedReport
_Pending = tuple[Decision, "asyncio.Future[Written | Exception]"]


class GroupCommit:
    """Batches :class:`ReportStore` writes from concurrent callers."""

    def __init__(self, store: ReportStore, batch_size: int = 256) -> None:
        self._store = store
        self._batch_size = batch_size
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, decision: Decision) -> Written | Exception:
        """Write ``decision``; returns once it is committed, or the error that prevented it."""
        queue = self._start()
        future: asyncio.Future[Written | Exception] = asyncio.get_running_loop().create_future()
        await queue.put((decision, future))
        return await future

    async def submit_many(self, decisions: Sequence[Decision]) -> list[Written | Exception]:
        """:meth:`submit` for many decisions at once: queued together, so they share
        transactions; each result, in order, once its transaction committed."""
        queue = self._start()
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Written | Exception]] = []
        for decision in decisions:
            futures.append(loop.create_future())
            queue.put_nowait((decision, futures[-1]))
        return [await future for future in futures]

    async def aclose(self) -> None:
        """Let queued writes finish, then stop the writer task."""
        if self._task is None or self._queue is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._queue = None

    def _start(self) -> asyncio.Queue[_Pending]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(self._queue), name="report-group-commit")
        return self._queue

    async def _run(self, queue: asyncio.Queue[_Pending]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    queue.task_done()

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            results: list[Written | Exception] = list(
                await self._store.write([decision for decision, _ in batch])
            )
        except Exception:
            if len(batch) == 1:
                log.exception("report write failed")
            results = [await self._write_alone(decision) for decision, _ in batch]
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _write_alone(self, decision: Decision) -> Written | Exception:
        try:
            return (await self._store.write([decision]))[0]
        except Exception as exc:
            log.exception("report write failed")
            if isinstance(decision, PreparedReport):
                return await self._quarantine_instead(decision.arrival(), exc)
            if isinstance(decision, KeepReport) and decision.raw is not None:
                return await self._quarantine_instead(decision.raw, exc)
            return exc

    async def _quarantine_instead(self, raw: RawArrival, error: Exception) -> Written | Exception:
        """Keep the raw bytes of a report whose rows could not be written, so it is not lost."""
        detail = f"the report's rows could not be stored: {type(error).__name__}: {error}"
        fallback = Quarantine("store_error", detail[:2000], raw=raw)
        try:
            return (await self._store.write([fallback]))[0]
        except Exception as exc:
            log.exception("report quarantine failed")
            return exc
