"""How ``mailshield serve`` runs: listening sockets, one server process or N that share a port.

:func:`listen` binds before anything is served. With one worker it is one ordinary socket. With
N it is N sockets on the same address and port, each with SO_REUSEPORT, bound in this process
(so port 0 resolves once) and each handed to one forked worker: the kernel spreads incoming
connections over the workers, and a worker that ends takes its own queue with it.

:func:`supervise` forks the workers (before any event loop or thread exists in this process),
forwards SIGTERM and SIGINT to them as SIGTERM (each worker shuts down gracefully: requests in
flight are answered, the report intake drains its writes), and when one worker ends on its own
it stops the others and exits non-zero, so a service manager restarts the whole server. Each
worker is in its own process group, so a Ctrl-C reaches it once, through this process; a
worker whose supervisor dies (even by SIGKILL) stops itself.

Only the first worker runs the periodic jobs (:mod:`mailshield.interfaces.worker`); their
leases in the database make that safe even beside other replicas. On SQLite, every worker
group-commits its own reports and the write lock is taken in turn (WAL, busy timeout).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

import click

from mailshield.services.event_loop import run

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    import uvicorn

    from mailshield.services.settings import Settings

__all__ = ["ServePlan", "listen", "run_worker", "supervise"]

BACKLOG = 2048
_STOP = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True, slots=True)
class ServePlan:
    """How many processes serve, and the scheme announced."""

    workers: int = 1
    scheme: str = "http"


def listen(host: str, port: int, plan: ServePlan) -> list[socket.socket]:
    """One listening socket per worker on ``host``:``port`` (0: a free port, the same for all);
    prints the address once they accept connections."""
    reuse = plan.workers > 1
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    first = socket.create_server((host, port), family=family, backlog=BACKLOG, reuse_port=reuse)
    bound = first.getsockname()[1]
    sockets = [first]
    try:
        for _ in range(plan.workers - 1):
            sockets.append(
                socket.create_server((host, bound), family=family, backlog=BACKLOG, reuse_port=True)
            )
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    count = f" ({plan.workers} worker processes)" if reuse else ""
    click.echo(f"listening on {plan.scheme}://{shown}:{bound}{count}", err=True)
    return sockets


def run_worker(
    config: uvicorn.Config, settings: Settings, sock: socket.socket, *, jobs: bool
) -> None:
    """Serve on ``sock`` in this process until a stop signal; the periodic jobs beside the
    server when ``jobs`` and the settings embed them."""
    import uvicorn

    server = uvicorn.Server(config)
    run(_serve(server, settings, sock, jobs=jobs), choice=settings.event_loop)


async def _serve(
    server: uvicorn.Server, settings: Settings, sock: socket.socket, *, jobs: bool
) -> None:
    if not (jobs and settings.embedded_worker):
        await server.serve(sockets=[sock])
        return
    from mailshield.interfaces.worker import build_scheduler
    from mailshield.storage.database import Database

    stop = asyncio.Event()
    async with Database(settings.effective_database_url) as db:
        task = asyncio.create_task(build_scheduler(settings, db).run_forever(stop))
        try:
            await server.serve(sockets=[sock])
        finally:
            stop.set()
            await task


Worker = Callable[..., None]
"""Serves on one socket until stopped: ``worker(config, settings, sock, jobs=...)``."""


def supervise(
    config: uvicorn.Config,
    settings: Settings,
    sockets: list[socket.socket],
    *,
    worker: Worker = run_worker,
) -> int:
    """Fork one ``worker`` per socket and wait; the exit status: 0 after a requested stop that
    every worker obeyed, 1 when a worker ended on its own or failed."""
    workers: list[BaseProcess] = []
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)
        _terminate(workers)

    previous = {signum: signal.signal(signum, stop) for signum in _STOP}
    try:
        context = multiprocessing.get_context("fork")
        for index, sock in enumerate(sockets):
            if stopping:
                break
            others = [s for s in sockets if s is not sock]
            process = context.Process(
                target=_worker_main,
                args=(worker, (config, settings, sock), others, index == 0),
                name=f"serve-{index}",
            )
            process.start()
            workers.append(process)
        for sock in sockets:
            sock.close()  # each worker holds its own; none may linger here
        if workers:
            wait([started.sentinel for started in workers])
        requested = bool(stopping)
        _terminate(workers)
        for started in workers:
            started.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    clean = requested and all(_clean_exit(ended.exitcode) for ended in workers)
    return 0 if clean else 1


def _worker_main(
    worker: Worker,
    arguments: tuple[uvicorn.Config, Settings, socket.socket],
    others: list[socket.socket],
    jobs: bool,
) -> None:
    """A forked worker: its own process group and default stop signals until uvicorn installs
    its handlers, only its own socket."""
    os.setpgid(0, 0)
    for signum in _STOP:
        signal.signal(signum, signal.SIG_DFL)
    for other in others:
        other.close()
    _stop_with_supervisor()
    worker(*arguments, jobs=jobs)


def _stop_with_supervisor() -> None:
    """Stop this worker gracefully (SIGTERM to itself) if the supervisor dies without passing a
    stop on, e.g. killed with SIGKILL: no worker outlives it to hold the port."""
    supervisor = multiprocessing.parent_process()
    if supervisor is None:
        return

    def watch() -> None:
        supervisor.join()  # returns when the supervisor's end of the sentinel pipe closes
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="serve-supervisor-watch", daemon=True).start()


def _terminate(workers: list[BaseProcess]) -> None:
    for process in workers:
        if process.pid is not None and process.exitcode is None:
            os.kill(process.pid, signal.SIGTERM)


def _clean_exit(code: int | None) -> bool:
    """uvicorn re-raises the stop signal after its graceful shutdown, so a worker that obeyed
    ends by SIGTERM (or SIGINT)."""
    return code in (0, -signal.SIGTERM, -signal.SIGINT)
