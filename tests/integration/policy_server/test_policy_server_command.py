"""``mailshield policy-server`` as a real process: schema gate, listening line, answers, workers."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.policy_server.client import fetch, fetch_plain

MAILSHIELD = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]
LISTENING = re.compile(r"policy server listening on \S+: https port (\d+), http port (\d+)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without MailShield settings, plus a private data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env |= {"MAILSHIELD_DATA_DIR": str(data_dir), "MAILSHIELD_POLICY_LISTEN": "127.0.0.1"}
    return env | extra


def wait_for_listening(process: subprocess.Popen[str]) -> tuple[int, int]:
    """Read stderr until the listening line; the real HTTPS and HTTP ports."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            return int(match[1]), int(match[2])
    pytest.fail(f"policy-server exited with {process.wait()}:\n{''.join(seen)}")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], tuple[int, int]]]:
    """A policy-server process on free ports, auto-migrated SQLite, no certificate job."""
    env = environment(tmp_path / "data", MAILSHIELD_AUTO_MIGRATE="true")
    command = [*MAILSHIELD, "policy-server", "--https-port", "0", "--http-port", "0"]
    command += ["--certificates-every", "0"]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        try:
            yield process, wait_for_listening(process)
        finally:
            if process.poll() is None:
                process.kill()


def test_unmigrated_database_is_refused(tmp_path: Path) -> None:
    """Without auto-migration the command exits 1 and names the fix."""
    result = subprocess.run(
        [*MAILSHIELD, "policy-server", "--https-port", "0", "--http-port", "0"],
        env=environment(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "mailshield db upgrade" in result.stderr


def test_process_serves_and_stops_on_sigterm(
    started: tuple[subprocess.Popen[str], tuple[int, int]], cafile: Path
) -> None:
    """With nothing hosted, /tls/ask says no and HTTPS aborts; SIGTERM ends the process cleanly."""
    process, (https_port, http_port) = started
    ask = asyncio.run(fetch_plain(http_port, "/tls/ask?domain=mta-sts.a.example"))
    assert ask.status == 404
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        asyncio.run(fetch(https_port, sni="mta-sts.a.example", cafile=cafile))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_workers_share_the_ports(tmp_path: Path) -> None:
    """Several worker processes bind the same ports (SO_REUSEPORT) and all stop on SIGTERM."""
    https_port, http_port = free_port(), free_port()
    env = environment(tmp_path / "data", MAILSHIELD_AUTO_MIGRATE="true")
    command = [*MAILSHIELD, "policy-server", "--workers", "2", "--certificates-every", "0"]
    command += ["--https-port", str(https_port), "--http-port", str(http_port)]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert wait_for_listening(process) == (https_port, http_port)
            for _ in range(4):
                response = asyncio.run(fetch_plain(http_port, "/nothing"))
                assert response.status == 404
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
