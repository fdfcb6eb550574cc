"""``mailshield check -f FILE``: every domain of a list, in this process or over worker processes.

Whatever the number of workers, the user sees the same thing: one output file (or stdout), one
progress bar, one summary line, the same exit codes, and a file an interrupted run can resume
(only complete lines count; see ``resume``). Only this process writes; workers hand back
rendered lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from mailshield.core.model import Status
from mailshield.core.names import InvalidName, to_alabel
from mailshield.interfaces.cli.check_exit import EXIT_INCOMPLETE, EXIT_INTERRUPTED, exit_code
from mailshield.interfaces.cli.check_job import RenderedCheck
from mailshield.interfaces.cli.render import csv_header, csv_text
from mailshield.interfaces.cli.resume import done_domains, drop_partial_line
from mailshield.services.bulk import check_many
from mailshield.services.bulk_plan import choose_workers, split_concurrency
from mailshield.services.bulk_pool import Checked, Lost, WorkerPool
from mailshield.services.bulk_tally import Tally
from mailshield.services.collector import settle_for_long_run
from mailshield.services.event_loop import run

Emit = Callable[[str, Status], None]


def check_file(
    job: RenderedCheck,
    path: Path,
    output: Path | None,
    *,
    concurrency: int,
    workers: int | None,
    event_loop: str,
) -> int:
    """Check every domain listed in ``path`` not already in ``output``; returns the exit code.

    ``concurrency`` is the total number of domains in flight, shared by the workers.
    """
    if output is not None:
        drop_partial_line(output)  # left by an interrupted run
    done = done_domains(output, job.fmt) if output else set()
    total = sum(1 for _ in read_domains(path))
    count = choose_workers(
        workers, cpus=usable_cpus(), remaining=total - len(done), concurrency=concurrency
    )
    console = Console(stderr=True)
    todo = (d for d in _valid_domains(read_domains(path), console) if d not in done)
    tally, lost = Tally(), []
    try:
        with contextlib.ExitStack() as stack:
            pool = None
            if count > 1:  # started first: a forked worker must not inherit the progress thread
                job.preload()
                shares = split_concurrency(concurrency, count)
                pool = stack.enter_context(
                    WorkerPool.start(job.shared_by(count), shares, event_loop=event_loop)
                )
            sink = _open_sink(stack, output, job.fmt)
            progress = stack.enter_context(_progress(console))
            task = progress.add_task("checking", total=total, completed=len(done))

            def emit(text: str, status: Status) -> None:
                sink.write(text)
                sink.flush()
                tally.add(status)
                progress.advance(task)

            if pool is None:
                _check_here(job, todo, emit, concurrency, event_loop)
            else:
                lost = pool.run(todo, lambda checked: _emit_checked(emit, checked))
    except KeyboardInterrupt:  # workers ignore SIGINT; leaving the stack ended them
        console.print(f"{tally.checked} checked before the interruption. {_summary(tally)}")
        console.print(f"[yellow]{_interrupted_message(output)}[/]")
        return EXIT_INTERRUPTED
    console.print(
        f"{tally.checked} checked, {len(done)} skipped (already in output). {_summary(tally)}"
    )
    for worker in lost:
        console.print(f"[red]{_lost_message(worker)}[/]")
    return EXIT_INCOMPLETE if lost else exit_code(tally.worst)


def _interrupted_message(output: Path | None) -> str:
    if output is None:
        return "Interrupted. With -o FILE, running the same command again resumes a list."
    return f"Interrupted. Run the same command again to check the rest ({output} is resumed)."


def _check_here(
    job: RenderedCheck, todo: Iterator[str], emit: Emit, concurrency: int, event_loop: str
) -> None:
    check = job()
    settle_for_long_run()
    run(
        check_many(check, todo, lambda line: emit(*line), concurrency=concurrency),
        choice=event_loop,
    )


def _emit_checked(emit: Emit, checked: Checked) -> None:
    emit(checked.text, checked.status)


def _open_sink(stack: contextlib.ExitStack, output: Path | None, fmt: str) -> IO[str]:
    """The output file opened for appending (stdout without ``-o``); a CSV header first if the
    file is new or empty."""
    sink: IO[str] = (
        stack.enter_context(output.open("a", encoding="utf-8")) if output else sys.stdout
    )
    if fmt == "csv" and (output is None or output.stat().st_size == 0):
        sink.write(csv_text([csv_header()]))
    return sink


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def read_domains(path: Path) -> Iterator[str]:
    """Domain names from a file, one per line; blank lines and # comments skipped."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            name = line.split("#", 1)[0].strip()
            if name:
                yield name


def _valid_domains(names: Iterator[str], console: Console) -> Iterator[str]:
    for name in names:
        try:
            yield to_alabel(name)
        except InvalidName as exc:
            console.print(f"[yellow]skipping {name!r}: {exc}[/]")


def _summary(tally: Tally) -> str:
    failures, untested = tally.counts[Status.FAIL], tally.counts[Status.ERROR]
    return f"{failures} with failures, {untested} with untested checks."


def _lost_message(lost: Lost) -> str:
    """What a user is told of a worker that ended early, and what to do about it."""
    shown = ", ".join(lost.domains[:5]) + (", …" if len(lost.domains) > 5 else "")
    held = (
        f"{len(lost.domains)} domains it held were not checked ({shown})"
        if lost.domains
        else ("it held no domains")
    )
    return (
        f"worker {lost.worker} ended unexpectedly (exit code {lost.exitcode}): {held}; "
        "no more were handed out. Run the same command again to check the rest."
    )


class _RateColumn(ProgressColumn):
    """Domains per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} domains/s" if speed else "– domains/s", style="cyan")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
