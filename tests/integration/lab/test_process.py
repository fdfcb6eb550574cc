"""Managed lab processes: readiness by probing, clear start errors, stop that leaves nothing."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import pytest

from mailshield.lab.endpoint import loopback
from mailshield.lab.process import Daemon, DaemonError, Service, ToolError, run_tool, socket_path
from mailshield.lab.readiness import tcp_accepts


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_dead(pid: int, within: float = 10.0) -> bool:
    """Poll until ``pid`` is dead (SIGKILL is delivered asynchronously); False on deadline."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def shell(script: str) -> list[str]:
    """argv running ``script`` with /bin/sh."""
    return ["/bin/sh", "-c", script]


def test_exit_before_ready_raises_with_the_log_tail(tmp_path: Path) -> None:
    """A daemon that dies while starting raises DaemonError quoting its status and its stderr."""
    daemon = Daemon(
        "crasher",
        shell("echo 'bind: address in use' >&2; exit 3"),
        workdir=tmp_path,
        ready=lambda: False,
    )
    with pytest.raises(DaemonError, match=r"(?s)crasher exited with status 3.*address in use"):
        daemon.start()
    assert daemon.log_path.read_text().strip() == "bind: address in use"


def test_never_ready_raises_and_leaves_no_process(tmp_path: Path) -> None:
    """A daemon whose probe never succeeds is stopped after the deadline, with a clear error."""
    daemon = Daemon(
        "sleeper", ["sleep", "300"], workdir=tmp_path, ready=lambda: False, start_timeout=0.3
    )
    with pytest.raises(DaemonError, match="sleeper was not ready"):
        daemon.start()
    assert daemon.pid is not None
    assert not alive(daemon.pid)


def test_start_returns_once_the_probe_succeeds(tmp_path: Path) -> None:
    """start() returns when the daemon accepts TCP connections, and stop() ends it."""
    listen = loopback("127.0.3.10")
    argv = [sys.executable, "-m", "http.server", "--bind", listen.host, str(listen.port)]
    daemon = Daemon("web", argv, workdir=tmp_path, ready=tcp_accepts(listen))
    daemon.start()
    try:
        assert daemon.running
        assert tcp_accepts(listen)()
    finally:
        daemon.stop()
    assert daemon.pid is not None
    assert not alive(daemon.pid)
    assert not daemon.running


def test_stop_kills_a_daemon_ignoring_term_and_its_children(tmp_path: Path) -> None:
    """A daemon that ignores SIGTERM is killed after the bounded wait, with its whole session."""
    child_pid = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {child_pid}; trap '' TERM; wait"
    daemon = Daemon(
        "stubborn",
        shell(script),
        workdir=tmp_path,
        ready=lambda: child_pid.exists() and child_pid.read_text().strip() != "",
        stop_timeout=0.2,
    )
    daemon.start()
    grandchild = int(child_pid.read_text())
    daemon.stop()
    assert daemon.pid is not None
    assert not alive(daemon.pid)
    assert wait_dead(grandchild)


def test_stop_is_idempotent_and_safe_before_start(tmp_path: Path) -> None:
    """stop() before start() and a second stop() do nothing."""
    daemon = Daemon("idle", ["sleep", "300"], workdir=tmp_path, ready=lambda: True)
    daemon.stop()
    daemon.start()
    daemon.stop()
    daemon.stop()
    assert daemon.pid is not None
    assert not alive(daemon.pid)


def test_run_tool_error_quotes_command_and_output() -> None:
    """A failing control tool raises ToolError naming the command and what it printed."""
    with pytest.raises(ToolError, match=r"(?s)exited with 2.*no such zone"):
        run_tool(shell("echo 'error: no such zone' >&2; exit 2"))


@pytest.mark.parametrize(
    ("depth", "inside"),
    [(1, True), (40, False)],
    ids=["short-workdir-keeps-socket-inside", "long-workdir-moves-socket-out"],
)
def test_socket_path_fits_a_unix_socket_address(tmp_path: Path, depth: int, inside: bool) -> None:
    """Control sockets stay in the workdir unless its path is too long for sun_path."""
    workdir = tmp_path.joinpath(*(["d"] * depth))
    path = socket_path(workdir, "knot.sock")
    assert len(str(path)) <= 100
    assert (path.parent == workdir) is inside
    if not inside:
        path.parent.rmdir()


class BlockingService(Service):
    """A service whose start waits until released; records stop calls."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.stopped = threading.Event()

    def start(self) -> None:
        self.entered.set()
        self.release.wait(10)

    def stop(self) -> None:
        self.stopped.set()


async def test_cancelled_async_start_stops_what_it_started() -> None:
    """Cancelling ``async with`` while start() runs in its thread still stops the service."""
    service = BlockingService()

    async def enter() -> None:
        async with service:
            pytest.fail("the body must not run")

    task = asyncio.create_task(enter())
    assert await asyncio.to_thread(service.entered.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not service.stopped.is_set()
    service.release.set()
    assert await asyncio.to_thread(service.stopped.wait, 10)


async def test_async_with_stops_on_exit() -> None:
    """Leaving ``async with`` normally stops the service."""
    service = BlockingService()
    service.release.set()
    async with service:
        assert not service.stopped.is_set()
    assert service.stopped.is_set()
