"""The import loop of ``mailshield reports import``: parse on every core, commit in batches.

Report files are read and parsed (the pure, CPU-bound step) in a pool of worker processes, a
chunk of files per task, while this process hands the results to the intake, whose group
commit writes hundreds of reports per transaction. On SQLite the workers also build each new
report's storage rows (:func:`~mailshield.services.ingest_prepared.prepare_file`), so this
process only deduplicates and inserts them.

The pool is forked first, before this process reads the settings or opens the database, and
:class:`ParseAhead` hands it work at once (on the default options, confirmed or redone once
the settings are read): the workers parse while this process is still starting. On a SQLite
file, :mod:`~mailshield.interfaces.cli.report_import_plain` stores the rows without the
intake. Messages and mailboxes are few and handled in this process. Small imports skip the
pool (forking costs more than it saves).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias, cast

from mailshield.core.documents.tls_report import ReportLimits, TlsReportParse, parse_tls_report
from mailshield.interfaces.cli.report_files import ReportFile, parse_file, read_file, read_items
from mailshield.services.ingest_model import Arrival, Channel, IngestOptions
from mailshield.services.ingest_prepared import prepare_file
from mailshield.storage.report_prepared import PreparedReport

if TYPE_CHECKING:
    import asyncio

    from rich.progress import Progress, TaskID

    from mailshield.interfaces.cli.report_import_store import StoredChunk
    from mailshield.services.ingest import IngestOutcome, ReportIntake

_Parsed = list["tuple[bytes, TlsReportParse] | PreparedReport"]
Result: TypeAlias = "_Parsed | StoredChunk"
_Outcomes: TypeAlias = "IngestOutcome | tuple[IngestOutcome, ...] | list[IngestOutcome]"

__all__ = ["Leftovers", "ParseAhead", "Result", "import_files", "progress_bar", "start_pool"]

POOL_THRESHOLD = 256  # report files below which parsing stays in this process
CHUNK = 64  # files per worker task
STORE_CHUNK = 1024  # files per worker task that commits its rows (one transaction each)
FIRST_CHUNK = 256  # the first such tasks double from this size up to STORE_CHUNK
LAST_CHUNK = 128  # and the last ones halve down to this size
AHEAD = 64  # chunks handed to the pool ahead of the writer (4,096 reports)
IN_FLIGHT = 1024  # reports handed to the intake at once (two group-commit batches)


def start_pool(files: list[ReportFile]) -> ProcessPoolExecutor | None:
    """A started pool of parser processes, one per core (up to 8), when there are enough
    report files, else ``None``.

    Not one more than the cores: the chunks' commits follow one another (their turns), so
    the committing worker is the pace-setter, and a third process on two cores slowed it
    more than its turn waits idled the other core (alternated runs, 0.81-0.85 s against
    0.75-0.79 s for 10,000 reports).
    """
    cores = min(os.cpu_count() or 1, 8)
    reports = sum(1 for file in files if file.kind == "report")
    if cores < 2 or reports < POOL_THRESHOLD:
        return None
    from mailshield.interfaces.cli.report_import_store import share_turns

    # The heap so far (every module, the file list) leaves the collector's care: the workers
    # inherit it without the collector touching (and so copying) its pages, and this process
    # exits without traversing it (the interpreter's teardown took about 40 ms more).
    gc.freeze()
    context = multiprocessing.get_context("fork")
    share_turns(context)  # before the fork: the workers inherit it
    pool = ProcessPoolExecutor(cores, mp_context=context)
    pool.submit(int).result()  # fork every worker now, while this process has one thread
    return pool


def parse_chunk(paths: list[str], limits: ReportLimits) -> _Parsed:
    """Read and parse a chunk of report files (runs in a worker process)."""
    return [parse_file(path, limits) for path in paths]


def prepare_chunk(paths: list[str], options: IngestOptions, received_at: datetime) -> _Parsed:
    """Read and parse a chunk of report files and build the storage rows of each report the
    intake would keep as it is; the others come back as ``(bytes, parse)`` (worker process)."""
    out: _Parsed = []
    limits = options.limits
    for path in paths:
        data = read_file(path)
        parsed = parse_tls_report(data, limits)
        out.append(prepare_file(data, parsed, path, received_at, options) or (data, parsed))
    return out


class Leftovers:
    """What a plain import (:mod:`~mailshield.interfaces.cli.report_import_plain`) leaves to
    the intake: reports it does not store itself, and prepared rows whose batch failed."""

    def __init__(self) -> None:
        self.parsed: list[tuple[bytes, TlsReportParse, str]] = []
        self.prepared: list[PreparedReport] = []

    def __bool__(self) -> bool:
        return bool(self.parsed or self.prepared)


class ParseAhead:
    """The report files of an import, parsed in ``pool`` a chunk per task, up to ``AHEAD``
    chunks ahead of the consumer; ``prepare`` asks for storage rows (SQLite), and after
    :meth:`store_into` the workers commit those rows themselves.

    Work can start on a guess of the options (the defaults) before the settings are read:
    :meth:`confirm` keeps it when the guess was right, and otherwise starts again.
    """

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        files: list[ReportFile],
        options: IngestOptions,
        *,
        prepare: bool,
    ) -> None:
        self._pool = pool
        self._options = options
        self._prepare = prepare
        paths = [file.path for file in files if file.kind == "report"]
        self._chunks = deque(_split(paths, CHUNK))
        self._running: deque[tuple[list[str], Future[Result]]] = deque()
        self._store: str | None = None
        self._turns = 0  # store tasks handed out so far (each one's turn to commit)
        self._fill()

    def confirm(self, options: IngestOptions, *, prepare: bool) -> None:
        """Use ``options`` and ``prepare`` from now on; work started with other ones (a wrong
        guess) is dropped and done again. Call it before taking any result."""
        if (options, prepare) == (self._options, self._prepare):
            return
        if self._store is not None:
            raise ValueError("the workers already store rows: chunks cannot be redone")
        self._options, self._prepare = options, prepare
        for chunk, task in reversed(self._running):
            task.cancel()  # a chunk already being parsed finishes, and is ignored
            self._chunks.appendleft(chunk)
        self._running.clear()
        self._fill()

    def store_into(self, database: str, write: Callable[[list[str], Result], None]) -> None:
        """From now on the workers commit each chunk's rows to the SQLite file ``database``
        (at the head of the schema), in file order, and send back a :class:`StoredChunk`.
        Chunks the workers already started come back as rows and are handed to ``write``
        first (in order, before any worker commits). Call it after :meth:`confirm`."""
        if not self._prepare:
            raise ValueError("only prepared rows can be stored by the workers")
        started = [(c, t) for c, t in reversed(self._running) if not t.cancel()][::-1]
        not_started = [path for chunk, _ in self._running for path in chunk]
        self._running.clear()
        for chunk, task in started:
            write(chunk, task.result())
        done = {path for chunk, _ in started for path in chunk}
        paths = [path for path in not_started if path not in done]
        paths += [path for chunk in self._chunks for path in chunk]
        self._chunks = deque(_store_chunks(paths))
        self._store = database
        self._fill()

    def _fill(self) -> None:
        while self._chunks and len(self._running) < AHEAD:
            chunk = self._chunks.popleft()
            task: Future[Result]
            if self._store is not None:
                from mailshield.interfaces.cli.report_import_store import store_chunk

                now, turn = datetime.now(UTC), self._turns
                self._turns += 1
                task = self._pool.submit(store_chunk, chunk, self._options, now, self._store, turn)
            elif self._prepare:  # one arrival time per chunk: a clock read per report costs more
                task = self._pool.submit(prepare_chunk, chunk, self._options, datetime.now(UTC))
            else:
                task = self._pool.submit(parse_chunk, chunk, self._options.limits)
            self._running.append((chunk, task))

    @property
    def done(self) -> bool:
        """Every chunk's results have been taken."""
        return not self._running

    async def chunks(self) -> AsyncIterator[tuple[list[str], Result]]:
        """Each chunk's paths and results, in file order."""
        import asyncio  # here: a plain SQLite import never loads it (about 20 ms)

        while self._running:
            chunk, task = self._next()
            yield chunk, await asyncio.wrap_future(task)

    def results(self) -> Iterator[tuple[list[str], Result]]:
        """:meth:`chunks` for a caller without an event loop (waits for each in turn)."""
        while self._running:
            chunk, task = self._next()
            yield chunk, task.result()

    def _next(self) -> tuple[list[str], Future[Result]]:
        item = self._running.popleft()
        self._fill()
        return item


async def import_files(
    intake: ReportIntake,
    files: list[ReportFile],
    quiet: bool,
    ahead: ParseAhead | None,
    rest: Leftovers | None = None,
) -> Counter[str]:
    """Submit every report in ``files``, and what a plain import left (``rest``); totals per
    disposition, plus ``skipped`` files."""
    run = _Run(intake)
    with progress_bar(quiet) as progress:
        task = progress.add_task("importing", total=len(files))
        if rest is not None:
            await run.leftovers(rest)
        reports = [file for file in files if file.kind == "report"]
        if ahead is not None:
            async for chunk, results in ahead.chunks():
                progress.advance(task, await run.take(chunk, results))
        else:
            for file in reports:
                await run.submit("report", read_file(file.path), file.path)
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

    async def take(self, chunk: list[str], results: Result) -> int:
        """Hand a parsed chunk to the intake as one batch (one task, not one per report); a
        chunk the workers stored is counted, and what they left is handed over."""
        if not isinstance(results, list):
            self.totals.update(results.totals)
            rest = Leftovers()
            rest.parsed, rest.prepared = results.parsed, results.prepared
            await self._throttle(len(rest.parsed) + len(rest.prepared))
            await self.leftovers(rest)
            return len(chunk)
        now = datetime.now(UTC)  # one arrival time per chunk: a clock read per report costs more
        prepared: list[PreparedReport] = []
        items: list[tuple[bytes, TlsReportParse, Arrival]] = []
        for result, path in zip(results, chunk, strict=True):
            if isinstance(result, PreparedReport):
                prepared.append(result)
            else:
                items.append((*result, _arrival(path, now)))
        await self._throttle(len(results))
        if prepared:
            self._start(self.intake.submit_prepared_many(prepared), len(prepared))
        if items:
            self._start(self.intake.submit_parsed_many(items), len(items))
        return len(results)

    async def leftovers(self, rest: Leftovers) -> None:
        """Submit what a plain import left to the intake: reports to decide, rows to retry."""
        now = datetime.now(UTC)
        if rest.parsed:
            items = [(data, parsed, _arrival(path, now)) for data, parsed, path in rest.parsed]
            self._start(self.intake.submit_parsed_many(items), len(items))
        if rest.prepared:
            self._start(self.intake.submit_prepared_many(rest.prepared), len(rest.prepared))

    async def submit(self, kind: str, data: bytes, path: str) -> None:
        await self._throttle(1)
        if kind == "message":
            self._start(self._message(data, path), 1)
        else:
            self._start(self.intake.submit_report(data, _arrival(path)), 1)

    async def _message(self, data: bytes, path: str) -> tuple[IngestOutcome, ...]:
        return (await self.intake.submit_message(data, _arrival(path))).outcomes

    def _start(self, work: Awaitable[_Outcomes], reports: int) -> None:
        import asyncio

        self.pending[asyncio.ensure_future(self._count(work))] = reports
        self.in_flight += reports

    async def _count(self, work: Awaitable[_Outcomes]) -> None:
        result = await work
        for outcome in result if isinstance(result, tuple | list) else (result,):
            self.totals[outcome.disposition.value] += 1

    async def _throttle(self, reports: int) -> None:
        """Wait until ``reports`` more fit within ``IN_FLIGHT`` reports submitted at once."""
        import asyncio

        while self.pending and self.in_flight + reports > IN_FLIGHT:
            done, _ = await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                self.in_flight -= self.pending.pop(task)
                task.result()

    async def drain(self) -> None:
        import asyncio

        if self.pending:
            await asyncio.wait(self.pending)
            for task in self.pending:
                task.result()
            self.pending.clear()
            self.in_flight = 0


def _store_chunks(paths: list[str]) -> list[list[str]]:
    """``paths`` in chunks of ``STORE_CHUNK`` files, smaller at both ends: doubling from
    ``FIRST_CHUNK``, so the first commit comes soon, and halving down to ``LAST_CHUNK`` as
    the end nears, where no parsing overlaps the last commits.

    The commits follow one another (their turns) and pace the import, and each costs a sync
    of the log and a rewrite of the index pages it touched, hence large chunks in between
    (alternated runs, 10,000 reports: 0.79-1.10 s against 1.07-1.16 s with 512 throughout;
    starting at 256, a median of 0.68 s against 0.72 s when starting at 1,024).
    """
    chunks: list[list[str]] = []
    start, size = 0, min(FIRST_CHUNK, STORE_CHUNK)
    while start < len(paths):
        left = len(paths) - start
        step = size
        while step > LAST_CHUNK and left < 2 * step:
            step //= 2
        chunks.append(paths[start : start + step])
        start += step
        size = min(2 * size, STORE_CHUNK)
    return chunks


def _split(paths: list[str], size: int) -> Iterator[list[str]]:
    return (paths[start : start + size] for start in range(0, len(paths), size))


def _arrival(path: str, received_at: datetime | None = None) -> Arrival:
    return Arrival(Channel.FILE, source=path, received_at=received_at)


def progress_bar(quiet: bool) -> Progress | _Silent:
    """A progress bar on stderr, or nothing at all with ``quiet`` (Rich is not even loaded)."""
    if quiet:
        return _Silent()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )


class _Silent:
    """The part of Rich's ``Progress`` the import uses, doing nothing."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> TaskID:
        return cast("TaskID", 0)

    def advance(self, task: TaskID, advance: float = 1) -> None:
        return None
