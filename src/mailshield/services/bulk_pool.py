"""A bulk check spread over worker processes, driven from this one.

This process reads the names (lazily, from any iterator), hands them to the workers in chunks
(each worker holds at most its concurrency plus one chunk: memory stays flat), and passes every
reported domain to ``emit`` — the only place output is written, so lines never interleave. A
:class:`~mailshield.services.bulk_ledger.Ledger` knows what each worker holds; a worker that
ends before reporting all of it is returned as a :class:`Lost`, naming the domains, and no more
names are handed out (the other workers finish what they hold). A resumed run checks those
domains, as they have no line in the output.

Use as a context manager: leaving it (normally, on an error, or on Ctrl-C) stops every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from mailshield.core.model import Status
from mailshield.services.bulk_ledger import Ledger
from mailshield.services.bulk_plan import start_method, take, wanted
from mailshield.services.bulk_wire import Deframer, frame
from mailshield.services.bulk_worker import CheckFactory, Result, serve

_READ = 256 * 1024  # bytes read at once from a worker


@dataclass(frozen=True, slots=True)
class Checked:
    """One checked domain as a worker reported it: its rendered output and its status."""

    domain: str
    text: str
    status: Status


@dataclass(frozen=True, slots=True)
class Lost:
    """A worker that ended early: its exit code and the domains it held, neither checked nor
    written."""

    worker: int
    exitcode: int | None
    domains: tuple[str, ...]


@dataclass(slots=True)
class _Worker:
    index: int
    process: BaseProcess
    sock: socket.socket
    concurrency: int
    deframer: Deframer = field(default_factory=Deframer)
    told_end: bool = False


class WorkerPool:
    """Worker processes checking domains; see the module docstring."""

    def __init__(self, workers: list[_Worker], start_method: str) -> None:
        self.start_method = start_method
        self._live = {worker.index: worker for worker in workers}
        self._ledger = Ledger()
        self._names: Iterator[str] = iter(())
        self._handing = True
        self._lost: list[Lost] = []

    @classmethod
    def start(
        cls,
        factory: CheckFactory,
        concurrencies: Sequence[int],
        *,
        event_loop: str,
        method: str | None = None,
    ) -> WorkerPool:
        """Start one worker per entry of ``concurrencies`` (that many checks at once each).

        Forks when it is safe (see ``start_method``) unless ``method`` says otherwise. The
        standard streams are flushed first: a forked child would otherwise write this process's
        buffered text a second time.
        """
        if method is None:
            method = start_method(threads=threading.active_count(), loop_running=_loop_running())
        context = _context(method)
        sys.stdout.flush()
        sys.stderr.flush()
        workers: list[_Worker] = []
        for index, concurrency in enumerate(concurrencies):
            mine, theirs = socket.socketpair()
            inherited = [w.sock for w in workers] + [mine] if method == "fork" else []
            process = context.Process(
                target=serve,
                args=(theirs, factory, concurrency, event_loop, inherited),
                name=f"mailshield-check-{index}",
                daemon=True,
            )
            process.start()
            theirs.close()  # only the child's copy stays open: its exit is our EOF
            workers.append(_Worker(index, process, mine, concurrency))
        return cls(workers, method)

    @property
    def processes(self) -> list[BaseProcess]:
        """The worker processes still counted as running."""
        return [worker.process for worker in self._live.values()]

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def run(self, names: Iterator[str], emit: Callable[[Checked], None]) -> list[Lost]:
        """Check every name of ``names``; ``emit`` gets each result as it arrives. Returns the
        workers that ended early (empty when every name handed out was reported)."""
        self._names = names
        for worker in list(self._live.values()):
            self._top_up(worker)
        while self._live:
            by_handle = self._handles()
            for handle in wait(list(by_handle)):
                worker = by_handle[handle]
                if worker.index in self._live:
                    self._receive(worker, emit)
        return self._lost

    def stop(self) -> None:
        """End every worker still running (SIGTERM) and wait for it."""
        for worker in self._live.values():
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in list(self._live.values()):
            worker.process.join()
            worker.sock.close()
        self._live.clear()

    def _handles(self) -> dict[Any, _Worker]:  # sockets and process sentinels
        handles: dict[Any, _Worker] = {}
        for worker in self._live.values():
            handles[worker.sock] = worker
            handles[worker.process.sentinel] = worker
        return handles

    def _receive(self, worker: _Worker, emit: Callable[[Checked], None]) -> None:
        """Take what ``worker`` has sent, then top it up or, if it has ended, close it."""
        try:
            data = worker.sock.recv(_READ, socket.MSG_DONTWAIT)
        except BlockingIOError:  # woken by its exit, with nothing left to read
            if not worker.process.is_alive():
                self._end(worker)
            return
        except OSError:
            data = b""
        batches: list[list[Result]] = worker.deframer.feed(data)
        for batch in batches:
            for domain, text, status in batch:
                self._ledger.report(worker.index, domain)
                emit(Checked(domain, text, status))
        if data:
            self._top_up(worker)
        else:  # end of stream: the worker has exited or is exiting
            self._end(worker)

    def _top_up(self, worker: _Worker) -> None:
        """Hand ``worker`` the names it wants; once they run out, tell every worker so."""
        if worker.told_end:
            return
        if self._handing:
            count = wanted(self._ledger.holding(worker.index), worker.concurrency)
            if count == 0:
                return
            chunk = take(self._names, count)
            if chunk:
                self._ledger.hand(worker.index, chunk)
                self._send(worker, chunk)
            if len(chunk) == count:
                return
            self._handing = False
        self._tell_end()

    def _tell_end(self) -> None:
        for worker in self._live.values():
            if not worker.told_end:
                worker.told_end = True
                self._send(worker, [])  # the end mark: finish what you hold, then exit

    def _send(self, worker: _Worker, chunk: list[str]) -> None:
        with contextlib.suppress(OSError):  # it has gone: its end of stream ends it
            worker.sock.sendall(frame(chunk))

    def _end(self, worker: _Worker) -> None:
        del self._live[worker.index]
        worker.sock.close()
        worker.process.join()
        held = self._ledger.release(worker.index)
        if held or worker.process.exitcode != 0:
            self._lost.append(Lost(worker.index, worker.process.exitcode, tuple(held)))
            self._handing = False  # a worker may have died of a name: hand out no more
            self._tell_end()


def _context(method: str) -> ForkContext | ForkServerContext | SpawnContext:
    if method == "fork":
        return multiprocessing.get_context("fork")
    if method == "spawn":
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("forkserver")


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
