"""A lab as a detached background process, found again and stopped through its state folder.

``mailshield lab up`` calls :func:`launch` with the command that runs the lab in the foreground.
The lab process writes ``state.json`` (its PID and start time, its daemons', the summary of
:meth:`~mailshield.lab.runner.Lab.summary`) once it serves, then reports on an inherited pipe
(:func:`announce`); :func:`launch` waits on that pipe, not on a clock. :func:`stop` ends exactly
the recorded processes: each is identified by PID *and* kernel start time, so a recycled PID is
never signalled; SIGTERM first, SIGKILL after a bounded wait.

State folder (default ``./mailshield-data/lab/<scenario>/``)::

    state.json   written by the running lab, removed when it stops
    lab.log      the lab process's output
    ca.pem       the lab CA root; dnssec/ holds Knot's and Unbound's files and logs
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
LOG_FILE = "lab.log"
READY_FD_OPTION = "--ready-fd"
_POLL = 0.05  # seconds between checks where no pidfd is available
_EXIT_GRACE = 10.0  # seconds a lab that closed its ready pipe gets to exit
_SILENT: dict[str, Any] = {}  # what _read_message returns when the wait ran out


class BackgroundError(RuntimeError):
    """The background lab could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class Process:
    """A process identified beyond its PID by its start time (clock ticks since boot)."""

    pid: int
    started: int

    @classmethod
    def of(cls, pid: int) -> Process | None:
        started = _start_ticks(pid)
        return None if started is None else cls(pid, started)

    @property
    def running(self) -> bool:
        """Alive (not a zombie) and still the same process."""
        return _start_ticks(self.pid) == self.started


@dataclass(frozen=True)
class LabState:
    """What ``state.json`` records about a running lab."""

    process: Process
    summary: dict[str, Any]
    daemons: tuple[Process, ...] = field(default=())

    def to_json(self) -> str:
        data = {
            "pid": self.process.pid,
            "started": self.process.started,
            "daemons": [[d.pid, d.started] for d in self.daemons],
            "summary": self.summary,
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LabState:
        data = json.loads(text)
        daemons = tuple(Process(int(pid), int(started)) for pid, started in data["daemons"])
        process = Process(int(data["pid"]), int(data["started"]))
        return cls(process, dict(data["summary"]), daemons)


# -- the lab process's side ------------------------------------------------------------------


def write_state(folder: Path, summary: dict[str, Any], daemon_pids: Sequence[int]) -> LabState:
    """Record this process as the running lab of ``folder`` (atomically replaced)."""
    me = Process.of(os.getpid())
    assert me is not None
    daemons = tuple(p for p in (Process.of(pid) for pid in daemon_pids) if p is not None)
    state = LabState(me, summary, daemons)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{STATE_FILE}.{os.getpid()}"
    partial.write_text(state.to_json())
    partial.replace(folder / STATE_FILE)
    return state


def forget_state(folder: Path) -> None:
    """Remove ``state.json`` if it describes this process (called when the lab stops)."""
    state = read_state(folder)
    if state is not None and state.process.pid == os.getpid():
        (folder / STATE_FILE).unlink(missing_ok=True)


def announce(fd: int, message: dict[str, Any]) -> None:
    """Send ``message`` (``{"ready": summary}`` or ``{"error": text}``) to the launcher."""
    with contextlib.suppress(OSError), os.fdopen(fd, "w") as pipe:
        pipe.write(json.dumps(message))


# -- the launcher's side ---------------------------------------------------------------------


def read_state(folder: Path) -> LabState | None:
    """The recorded state of the lab in ``folder``, or None if there is none (or it is torn)."""
    try:
        return LabState.from_json((folder / STATE_FILE).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_state(folder: Path) -> LabState | None:
    """The state of the lab in ``folder`` if that lab process is still running."""
    state = read_state(folder)
    return state if state is not None and state.process.running else None


def launch(argv: Sequence[str], folder: Path, *, timeout: float) -> dict[str, Any]:
    """Start ``argv`` (given ``--ready-fd N``) detached, with output to ``lab.log``; return the
    summary it announces once ready. :class:`BackgroundError` quoting the log when it fails."""
    folder.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    try:
        pid = _spawn([*argv, READY_FD_OPTION, str(write_end)], folder / LOG_FILE, write_end)
    finally:
        os.close(write_end)
    try:
        message = _read_message(read_end, timeout)
    finally:
        os.close(read_end)
    if message is not None and "ready" in message:
        ready: dict[str, Any] = message["ready"]
        return ready
    raise BackgroundError(_failure(pid, message, folder, timeout))


def _spawn(argv: Sequence[str], log: Path, ready_fd: int) -> int:
    """Start ``argv`` in a new session (it outlives the launcher and its terminal), stdin from
    /dev/null, stdout and stderr appended to ``log``, inheriting only ``ready_fd``.

    ``posix_spawn`` rather than ``subprocess.Popen``: the launcher exits while the lab runs on,
    and a Popen object dropped for a running child warns."""
    os.set_inheritable(ready_fd, True)
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return os.posix_spawn(
            argv[0],
            list(argv),
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log_fd, 1),
                (os.POSIX_SPAWN_DUP2, log_fd, 2),
            ],
            setsid=True,
        )
    except OSError as exc:
        raise BackgroundError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
    finally:
        os.close(log_fd)


def _failure(pid: int, message: dict[str, Any] | None, folder: Path, timeout: float) -> str:
    """Why the lab did not start; a lab still running is terminated first. Reaps the child.

    A lab that closed the pipe is on its way out: it gets a few seconds to finish exiting."""
    if not _wait_gone(pid, _EXIT_GRACE if message is not _SILENT else 0.0):
        _terminate(pid, grace=5.0)
        _reap(pid)
        return f"the lab did not start within {timeout:g} s\n{log_tail(folder)}"
    status = _reap(pid)
    if message is not None and "error" in message:
        return str(message["error"])
    return f"the lab process exited with status {status}\n{log_tail(folder)}"


def _reap(pid: int) -> int | None:
    """Wait for child ``pid`` and return its exit code (None if it was reaped already)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def _read_message(fd: int, timeout: float) -> dict[str, Any] | None:
    """The JSON message written to the pipe before it closes (None if it closed without one),
    or :data:`_SILENT` when ``timeout`` ran out first."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    while (remaining := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            try:
                message: dict[str, Any] = json.loads(b"".join(chunks) or b"null")
            except ValueError:
                return None
            return message
        chunks.append(chunk)
    return _SILENT


def log_tail(folder: Path, lines: int = 20) -> str:
    """The end of the lab's log, for error messages."""
    try:
        text = (folder / LOG_FILE).read_text(errors="replace")
    except OSError:
        return "(no log)"
    tail = "\n".join(text.splitlines()[-lines:])
    return f"{folder / LOG_FILE} ends with:\n{tail}"


def stop(folder: Path, *, grace: float = 10.0) -> list[int]:
    """Stop the lab recorded in ``folder`` and any daemon of it still running (SIGTERM, then
    SIGKILL after ``grace`` seconds); returns the PIDs that were signalled."""
    state = read_state(folder)
    if state is None:
        return []
    stopped = []
    for process in (state.process, *state.daemons):
        if process.running:
            _terminate(process.pid, grace=grace, started=process.started)
            stopped.append(process.pid)
    (folder / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _terminate(pid: int, *, grace: float, started: int | None = None) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL and wait again."""
    for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if started is not None and _start_ticks(pid) != started:
            return
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        if _wait_gone(pid, wait):
            return


def _wait_gone(pid: int, timeout: float) -> bool:
    """Whether ``pid`` ended (or became a zombie) within ``timeout`` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:
        return _poll_gone(pid, timeout)
    try:
        readable, _, _ = select.select([fd], [], [], timeout)  # readable once the process exits
        return bool(readable)
    finally:
        os.close(fd)


def _poll_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _start_ticks(pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL)
    return True


def _start_ticks(pid: int) -> int | None:
    """The start time of live process ``pid`` from /proc (None if gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may contain spaces) start at its closing parenthesis:
    # state is field 3, starttime field 22 (proc(5)).
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])
