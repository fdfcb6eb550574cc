"""The import loop of ``mailshield reports import``: parse on every core, commit in batches.

Report files are read and parsed (the pure, CPU-bound step) in a pool of worker processes, a
chunk of files per task, while this process hands the results to the intake, whose group
commit writes hundreds of reports per transaction. The pool is forked before the event loop
and the database threads exist. Messages and mailboxes are few and handled in this process.
Small imports skip the pool (forking costs more than it saves).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mailshield.core.documents.tls_report import ReportLimits, TlsReportParse
from mailshield.interfaces.cli.report_files import ReportFile, parse_file, read_items

if TYPE_CHECKING:
    from mailshield.services.ingest import Arrival, IngestOutcome, ReportIntake

_Parsed = list[tuple[bytes, TlsReportParse]]
_Chunk = tuple[list[Path], "asyncio.Future[_Parsed]"]
_Outcomes: TypeAlias = "IngestOutcome | tuple[IngestOutcome, ...] | list[IngestOutcome]"

__all__ = ["import_files", "start_pool"]

POOL_THRESHOLD = 256  # report files below which parsing stays in this process
CHUNK = 64  # files per worker task
IN_FLIGHT = 1024  # reports handed to the intake at once (two group-commit batches)


def start_pool(files: list[ReportFile]) -> ProcessPoolExecutor | None:
    """A started pool of parser processes when there are enough report files, else ``None``."""
    workers = min(os.cpu_count() or 1, 8)
    reports = sum(1 for file in files if file.kind == "report")
    if workers < 2 or reports < POOL_THRESHOLD:
        return None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    pool.submit(int).result()  # fork every worker now, while this process has one thread
    return pool


def parse_chunk(paths: list[Path], limits: ReportLimits) -> _Parsed:
    """Read and parse a chunk of report files (runs in a worker process)."""
    return [parse_file(path, limits) for path in paths]


async def import_files(
    intake: ReportIntake, files: list[ReportFile], quiet: bool, pool: ProcessPoolExecutor | None
) -> Counter[str]:
    """Submit every report in ``files``; totals per disposition, plus ``skipped`` files."""
    run = _Run(intake)
    with _progress(quiet) as progress:
        task = progress.add_task("importing", total=len(files))
        reports = [file for file in files if file.kind == "report"]
        if pool is not None:
            async for count in run.pooled(reports, pool):
                progress.advance(task, count)
        else:
            for file in reports:
                await run.submit("report", file.path.read_bytes(), file.path)
                progress.advance(task)
        for file in files:
            if file.kind == "skip":
                run.totals["skipped"] += 1
            elif file.kind != "report":
                for kind, data in read_items(file):
                    await run.submit(kind, data, file.path)
            else:
                continue
            progress.advance(task)
        await run.drain()
    return run.totals


class _Run:
    """Submissions in flight and the totals of their outcomes."""

    def __init__(self, intake: ReportIntake) -> None:
        self.intake = intake
        self.totals: Counter[str] = Counter()
        self.pending: dict[asyncio.Task[None], int] = {}  # task: how many reports it holds
        self.in_flight = 0

    async def pooled(
        self, files: list[ReportFile], pool: ProcessPoolExecutor
    ) -> AsyncIterator[int]:
        """Parse ``files`` in ``pool``, submit each; yields how many files each chunk held."""
        window = 2 * (os.cpu_count() or 2)  # chunks parsed ahead of the writer
        queue: deque[_Chunk] = deque()
        for start in range(0, len(files), CHUNK):
            chunk = [file.path for file in files[start : start + CHUNK]]
            parsing = pool.submit(parse_chunk, chunk, self.intake.limits)
            queue.append((chunk, asyncio.wrap_future(parsing)))
            if len(queue) >= window:
                yield await self._take(queue.popleft())
        while queue:
            yield await self._take(queue.popleft())

    async def _take(self, item: _Chunk) -> int:
        """Hand a parsed chunk to the intake as one batch (one task, not one per report)."""
        chunk, parsing = item
        results = await parsing
        now = datetime.now(UTC)  # one arrival time per chunk: a clock read per report costs more
        items = [
            (data, parsed, _arrival(path, now))
            for (data, parsed), path in zip(results, chunk, strict=True)
        ]
        await self._throttle(len(items))
        self._start(self.intake.submit_parsed_many(items), len(items))
        return len(results)

    async def submit(self, kind: str, data: bytes, path: Path) -> None:
        await self._throttle(1)
        if kind == "message":
            self._start(self._message(data, path), 1)
        else:
            self._start(self.intake.submit_report(data, _arrival(path)), 1)

    async def _message(self, data: bytes, path: Path) -> tuple[IngestOutcome, ...]:
        return (await self.intake.submit_message(data, _arrival(path))).outcomes

    def _start(self, work: Awaitable[_Outcomes], reports: int) -> None:
        self.pending[asyncio.ensure_future(self._count(work))] = reports
        self.in_flight += reports

    async def _count(self, work: Awaitable[_Outcomes]) -> None:
        result = await work
        for outcome in result if isinstance(result, tuple | list) else (result,):
            self.totals[outcome.disposition.value] += 1

    async def _throttle(self, reports: int) -> None:
        """Wait until ``reports`` more fit within ``IN_FLIGHT`` reports submitted at once."""
        while self.pending and self.in_flight + reports > IN_FLIGHT:
            done, _ = await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                self.in_flight -= self.pending.pop(task)
                task.result()

    async def drain(self) -> None:
        if self.pending:
            await asyncio.wait(self.pending)
            for task in self.pending:
                task.result()
            self.pending.clear()
            self.in_flight = 0


def _arrival(path: Path, received_at: datetime | None = None) -> Arrival:
    from mailshield.services.ingest import Arrival, Channel

    return Arrival(Channel.FILE, source=str(path), received_at=received_at)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )
