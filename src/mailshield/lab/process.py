"""Lab daemons as child processes: start in the foreground, wait until ready, stop by PID.

A :class:`Daemon` runs one program (``knotd``, ``unbound``, ``pebble``) in its own session with
stdout and stderr captured to ``<workdir>/<name>.log``. ``start()`` returns once the readiness
probe succeeds (a DNS query, a TCP connect, an HTTPS GET; see :mod:`mailshield.lab.readiness`) and
raises :class:`DaemonError`, quoting the end of the log, when the program exits first or the probe
never succeeds. ``stop()`` sends SIGTERM, waits a bounded time, then SIGKILLs the process group, and
always reaps the child: no process is left behind, and the log stays in place.

Exceptions::

    LabProcessError          a lab program failed
    ├── DaemonError          a daemon did not start (or its program is missing)
    └── ToolError            a control tool (knotc, keymgr, unbound-control) failed
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from mailshield.lab.readiness import Probe

__all__ = [
    "Daemon",
    "DaemonError",
    "LabProcessError",
    "Service",
    "ToolError",
    "binary",
    "make_workdir",
    "run_tool",
    "socket_path",
]

_SYSTEM_BINARY_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
_POLL_SECONDS = 0.05
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux; keep a margin


class LabProcessError(RuntimeError):
    """A lab program failed."""


class DaemonError(LabProcessError):
    """A daemon did not start; the message names it and quotes the end of its log."""


class ToolError(LabProcessError):
    """A control tool exited with an error; the message quotes the command and its output."""


def binary(name: str) -> str:
    """The path of program ``name``, also looking in the sbin folders Debian installs daemons to."""
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SYSTEM_BINARY_DIRS))
    if found is None:
        raise DaemonError(f"{name} is not installed (Debian packages: knot, unbound, pebble)")
    return found


def make_workdir(workdir: Path | None, prefix: str) -> Path:
    """``workdir`` (created if needed), or a new temporary folder named after ``prefix``."""
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix=f"mailshield-{prefix}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def socket_path(workdir: Path, name: str) -> Path:
    """A unix socket path for ``name`` in ``workdir``, or in a short temporary folder when the
    workdir path is too long for a socket address."""
    path = workdir / name
    if len(os.fsencode(path)) <= _SOCKET_PATH_MAX:
        return path
    return Path(tempfile.mkdtemp(prefix="ms-sock-")) / name


def run_tool(argv: Sequence[str], *, timeout: float = 30.0) -> str:
    """Run a control tool to completion and return its stdout; :class:`ToolError` on failure."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"{' '.join(argv)}: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise ToolError(f"{' '.join(argv)} exited with {done.returncode}: {output}")
    return done.stdout


class Daemon:
    """One daemon program run in the foreground as a child process with its own session."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        workdir: Path,
        ready: Probe,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self._ready = ready
        self._env = {**os.environ, **(env or {})}
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's PID once started (kept after stop, so callers can check it is gone)."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the program and return once the readiness probe succeeds."""
        if self._process is not None:
            raise DaemonError(f"{self.name} was already started")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=self._env,
                start_new_session=True,
            )
        try:
            self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self._start_timeout
        while not self._ready():
            if time.monotonic() > deadline:
                raise self._failure(f"was not ready after {self._start_timeout:g} s")
            try:
                returncode = process.wait(timeout=_POLL_SECONDS)
            except subprocess.TimeoutExpired:
                continue
            raise self._failure(f"exited with status {returncode} before it was ready")
        if process.poll() is not None:
            # The probe was answered by someone else holding the address we could not bind.
            raise self._failure(f"exited with status {process.returncode} while starting")

    def _failure(self, what: str) -> DaemonError:
        return DaemonError(
            f"{self.name} {what}\ncommand: {' '.join(self.argv)}\n"
            f"log {self.log_path} ends with:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 25) -> str:
        """The last ``lines`` lines of the daemon's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL to the whole process group; always reaps."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=self._stop_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
        # Anything the daemon forked into its session dies with it.
        _kill_group(process.pid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class Service(abc.ABC):
    """Something with ``start()``/``stop()``, usable with ``with`` and ``async with``.

    ``async with`` runs start and stop in a worker thread, so an event loop serving DNS (the lab's
    in-process server) keeps answering while a daemon starts. A worker thread cannot be
    interrupted: when the waiting task is cancelled, whatever the start brings up is stopped.
    """

    @abc.abstractmethod
    def start(self) -> None:
        """Start and return once ready."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop; leave no process behind and keep logs."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        guard = _StartGuard(self)
        try:
            await asyncio.to_thread(guard.start)
        except asyncio.CancelledError:
            guard.cancel()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


class _StartGuard:
    """Runs ``service.start()`` in a worker thread and stops the service if the task waiting for
    it was cancelled, whether the start was still running or had just finished."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._cancelled = False
        self._started = False

    def start(self) -> None:
        self._service.start()
        with self._lock:
            self._started = True
            if not self._cancelled:
                return
        self._service.stop()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            started = self._started
        if started:
            self._service.stop()  # blocks the loop for at most the stop timeout; only on cancel
