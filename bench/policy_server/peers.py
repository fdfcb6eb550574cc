"""The two servers under test, each in its own process: MailShield's policy server and nginx.

Both present the same kind of certificate (ECDSA P-256 from the lab CA, with its chain), speak
TLS 1.2/1.3 with their defaults, and serve the same policy bytes with the same headers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.nginx_conf import nginx_conf

REPOSITORY = Path(__file__).resolve().parents[2]
START_DEADLINE = 60.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its children threads/processes (from /proc)."""
    total = 0.0
    for process in [pid, *_children(pid)]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@contextlib.contextmanager
def mailshield_server(url: str, address: str) -> Iterator[tuple[int, int]]:
    """``bench.policy_server.server`` on ``address``; yields (pid, https port)."""
    command = [sys.executable, "-m", "bench.policy_server.server", url, "--listen", address]
    with subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("READY "):
                raise RuntimeError(f"policy server did not start (exit {process.wait()})")
            yield process.pid, int(line.split()[1])
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


_POLICY = """\
        keepalive_requests 100;
        location = /.well-known/mta-sts.txt {{
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control "max-age=60";
            alias {root}/mta-sts.txt;
        }}
        location / {{ return 404; }}"""


@contextlib.contextmanager
def nginx_server(
    root: Path, address: str, name: str, chain: bytes, key: bytes, policy: bytes, workers: int
) -> Iterator[tuple[int, int]]:
    """Debian's nginx with a config in ``root``; yields (master pid, port)."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    for folder in (root.parent, root):  # nginx workers run unprivileged: they must reach the files
        folder.chmod(0o755)
    (root / "chain.pem").write_bytes(chain)
    (root / "key.pem").write_bytes(key)
    (root / "mta-sts.txt").write_bytes(policy)
    (root / "mta-sts.txt").chmod(0o644)
    port = _free_port(address)
    server = _POLICY.format(root=root)
    conf = nginx_conf(root, address, port, name=name, server=server, workers=workers)
    (root / "nginx.conf").write_text(conf)
    command = [
        "nginx",
        "-p",
        str(root),
        "-c",
        str(root / "nginx.conf"),
        "-e",
        str(root / "error.log"),
    ]
    with subprocess.Popen(command) as process:
        try:
            _wait_accepting(address, port, process)
            yield process.pid, port
        finally:
            process.send_signal(signal.SIGQUIT)
            process.wait(timeout=30)


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _wait_accepting(address: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
            return
        time.sleep(0.05)  # poll interval
    raise RuntimeError("nginx did not start")
