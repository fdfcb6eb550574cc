"""Detached lab processes: launch waits on the ready pipe, stop ends exactly what was recorded."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mailshield.lab import background
from mailshield.lab.background import BackgroundError, LabState, Process

# A stand-in for `mailshield lab run`: behaves as told by its first argument.
FAKE_LAB = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from mailshield.lab import background
    how, folder, fd = sys.argv[1], Path(sys.argv[2]), int(sys.argv[-1])
    print("fake lab starting", flush=True)
    if how == "crash":
        sys.exit(7)
    if how == "error":
        background.announce(fd, {"error": "cannot listen on DNS 127.0.1.1:53: address in use"})
        sys.exit(1)
    if how == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if how != "silent":
        background.write_state(folder, {"resolvers": ["127.0.1.1:53"]}, [])
        background.announce(fd, {"ready": {"resolvers": ["127.0.1.1:53"]}})
    signal.pause() if how != "silent" else time.sleep(600)
    """
)


def launch(how: str, folder: Path, timeout: float = 30.0) -> dict[str, object]:
    argv = [sys.executable, "-c", FAKE_LAB, how, str(folder)]
    return background.launch(argv, folder, timeout=timeout)


def test_launch_returns_what_the_lab_announces(tmp_path: Path) -> None:
    """A lab that announces readiness is left running and its summary returned."""
    summary = launch("ready", tmp_path)
    state = background.running_state(tmp_path)
    assert state is not None
    try:
        assert summary == {"resolvers": ["127.0.1.1:53"]}
        assert state.process.running
        assert "fake lab starting" in (tmp_path / background.LOG_FILE).read_text()
    finally:
        stopped = background.stop(tmp_path, grace=5)
    assert stopped == [state.process.pid]
    assert not state.process.running
    assert background.read_state(tmp_path) is None


def test_announced_error_is_raised(tmp_path: Path) -> None:
    """The lab's own explanation of a failure becomes the launcher's error."""
    with pytest.raises(BackgroundError, match="address in use"):
        launch("error", tmp_path)


def test_exit_without_announcing_quotes_the_log(tmp_path: Path) -> None:
    """A lab that dies before announcing gives its exit status and the end of its log."""
    with pytest.raises(BackgroundError, match=r"exited with status 7(.|\n)*fake lab starting"):
        launch("crash", tmp_path)


def test_silent_lab_is_stopped_after_the_timeout(tmp_path: Path) -> None:
    """A lab that never announces is terminated when the wait ends."""
    with pytest.raises(BackgroundError, match="did not start within 1 s"):
        launch("silent", tmp_path, timeout=1.0)


def test_stop_kills_a_lab_ignoring_sigterm(tmp_path: Path) -> None:
    """A recorded process that ignores SIGTERM is killed once the grace period ends."""
    launch("stubborn", tmp_path)
    state = background.read_state(tmp_path)
    assert state is not None
    assert background.stop(tmp_path, grace=0.5) == [state.process.pid]
    assert not state.process.running


def test_state_round_trips_through_json(tmp_path: Path) -> None:
    """state.json keeps the process identities and the summary."""
    state = LabState(Process(10, 20), {"resolvers": ["127.0.1.1:53"]}, (Process(11, 21),))
    assert LabState.from_json(state.to_json()) == state


def test_torn_state_file_reads_as_none(tmp_path: Path) -> None:
    """An unreadable state file is no state, not a crash."""
    (tmp_path / background.STATE_FILE).write_text("{not json")
    assert background.read_state(tmp_path) is None
    assert background.stop(tmp_path) == []
