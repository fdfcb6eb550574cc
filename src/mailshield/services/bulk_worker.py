"""One worker process of a bulk check: names come in on a pipe, rendered lines go back out.

The parent hands names in chunks (a list; an empty list means "no more") and the worker checks
up to its concurrency at once on its own event loop, sending back ``(domain, text, status)``
for each finished domain, batched per loop iteration. It renders in the worker because
rendering is CPU work the parent (which only writes) should not do. The worker ends when it
has reported every name it was handed after the end mark, or at once if the parent goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from mailshield.core.model import Status
from mailshield.services.event_loop import run

Check = Callable[[str], Awaitable[tuple[str, Status]]]
CheckFactory = Callable[[], Check]  # picklable; called once in each worker, before its loop
Result = tuple[str, str, Status]  # domain, rendered text, status


def serve(
    conn: Connection,
    factory: CheckFactory,
    concurrency: int,
    event_loop: str,
    inherited: Sequence[Connection] = (),
) -> None:
    """Entry point of a worker process: check what ``conn`` hands in until the end mark.

    ``inherited`` are pipe ends a forked child got from the parent but must not keep open (each
    end held elsewhere hides an EOF). A Ctrl-C reaches the whole process group; the worker
    ignores it and leaves the decision to the parent, which stops the workers itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other in inherited:
        other.close()
    check = factory()
    try:
        run(_serve(conn, check, concurrency), choice=event_loop)
    finally:
        conn.close()


async def _serve(conn: Connection, check: Check, concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    link = _Link(conn, loop)
    loop.add_reader(conn.fileno(), link.readable)
    try:

        async def one_at_a_time() -> None:
            while (name := await link.next_name()) is not None:
                text, status = await check(name)
                link.put((name, text, status))

        work = asyncio.gather(*(one_at_a_time() for _ in range(concurrency)))
        either: list[asyncio.Future[Any]] = [work, link.gone]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if link.gone.done():  # nobody to report to: stop checking
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            return
        work.result()
    finally:
        link.flush()  # what is finished is reported, even when a check raised
        loop.remove_reader(conn.fileno())


class _Link:
    """The worker's end of the pipe: a queue of names read when readable, an outbox of results
    sent once per loop iteration."""

    def __init__(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn, self._loop = conn, loop
        self._names: deque[str] = deque()
        self._ended = False
        self._arrived = asyncio.Event()
        self._outbox: list[Result] = []
        self.gone: asyncio.Future[None] = loop.create_future()

    def readable(self) -> None:
        """Take every chunk waiting in the pipe (called by the loop when it is readable)."""
        try:
            while self._conn.poll():
                chunk: list[str] = self._conn.recv()
                self._ended = self._ended or not chunk
                self._names.extend(chunk)
        except (EOFError, OSError):
            self._lose()
        self._arrived.set()

    async def next_name(self) -> str | None:
        """The next name to check; ``None`` once the end mark came and every name is taken."""
        while not self._names:
            if self._ended or self.gone.done():
                return None
            self._arrived.clear()
            await self._arrived.wait()
        return self._names.popleft()

    def put(self, result: Result) -> None:
        """Queue ``result``; the outbox is sent after this loop iteration's other callbacks."""
        self._outbox.append(result)
        if len(self._outbox) == 1:
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send the queued results now."""
        batch, self._outbox = self._outbox, []
        if not batch or self.gone.done():
            return
        try:
            self._conn.send(batch)
        except OSError:
            self._lose()

    def _lose(self) -> None:
        self._ended = True
        self._loop.remove_reader(self._conn.fileno())  # an EOF stays readable: stop the calls
        if not self.gone.done():
            self.gone.set_result(None)
