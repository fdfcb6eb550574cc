"""One worker process of a bulk check: names come in on a socket, rendered lines go back out.

The parent hands names in chunks (a list; an empty list means "no more") and the worker checks
up to its concurrency at once on its own event loop, sending back ``(domain, text, status)``
for each finished domain, batched per loop iteration (see ``bulk_wire`` for the framing). It
renders in the worker because rendering is CPU work the parent (which only writes) should not
do. The worker ends when it has reported every name it was handed before the end mark, or at
once if the parent goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from mailshield.core.model import Status
from mailshield.services.bulk_wire import Deframer, frame
from mailshield.services.collector import settle_for_long_run
from mailshield.services.event_loop import run

Check = Callable[[str], Awaitable[tuple[str, Status]]]
CheckFactory = Callable[[], Check]  # picklable; called once in each worker, before its loop
Result = tuple[str, str, Status]  # domain, rendered text, status


def serve(
    sock: socket.socket,
    factory: CheckFactory,
    concurrency: int,
    event_loop: str,
    inherited: Sequence[socket.socket] = (),
) -> None:
    """Entry point of a worker process: check what ``sock`` hands in until the end mark.

    ``inherited`` are socket ends a forked child got from the parent but must not keep open
    (each end held elsewhere hides an EOF). A Ctrl-C reaches the whole process group; the
    worker ignores it and leaves the decision to the parent, which stops the workers itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other in inherited:
        other.close()
    check = factory()
    settle_for_long_run()
    run(_serve(sock, check, concurrency), choice=event_loop)


async def _serve(sock: socket.socket, check: Check, concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    _, link = await loop.create_unix_connection(lambda: _Link(loop), sock=sock)
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
        await link.close()  # what is finished is reported, even when a check raised


class _Link(asyncio.Protocol):
    """The worker's end of the socket: a queue of names as they arrive, an outbox of results
    written once per loop iteration."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.WriteTransport | None = None
        self._deframer = Deframer()
        self._names: deque[str] = deque()
        self._ended = False
        self._arrived = asyncio.Event()
        self._outbox: list[Result] = []
        self.gone: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.WriteTransport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        for chunk in self._deframer.feed(data):
            self._ended = self._ended or not chunk
            self._names.extend(chunk)
        self._arrived.set()

    def eof_received(self) -> bool:
        self._lose()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose()
        if not self._closed.done():
            self._closed.set_result(None)

    async def next_name(self) -> str | None:
        """The next name to check; ``None`` once the end mark came and every name is taken."""
        while not self._names:
            if self._ended or self.gone.done():
                return None
            self._arrived.clear()
            await self._arrived.wait()
        return self._names.popleft()

    def put(self, result: Result) -> None:
        """Queue ``result``; the outbox is written after this loop iteration's other callbacks."""
        self._outbox.append(result)
        if len(self._outbox) == 1:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        batch, self._outbox = self._outbox, []
        if batch and self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(batch))

    async def close(self) -> None:
        """Write what is queued, close, and wait until the parent has it all (or is gone)."""
        self._flush()
        if self._transport is not None:
            self._transport.close()
            await self._closed

    def _lose(self) -> None:
        self._ended = True
        if not self.gone.done():
            self.gone.set_result(None)
        self._arrived.set()
