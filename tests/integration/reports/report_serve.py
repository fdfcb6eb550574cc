"""``mailshield serve`` as a child process for report tests: start, wait until healthy, kill."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_DEADLINE = 60.0
MAILSHIELD = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def report_json(report_id: str, domain: str = "example.com", failed: int = 0) -> bytes:
    """A small valid TLS report (RFC 8460 §4.4) with the given report-id."""
    document = {
        "organization-name": "Crash Test Reporter",
        "date-range": {
            "start-datetime": "2024-05-01T00:00:00Z",
            "end-datetime": "2024-05-01T23:59:59Z",
        },
        "contact-info": "tlsrpt@reporter.example",
        "report-id": report_id,
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-string": ["version: STSv1", "mode: testing", f"mx: mx.{domain}"],
                    "policy-domain": domain,
                    "mx-host": [f"mx.{domain}"],
                },
                "summary": {
                    "total-successful-session-count": 10,
                    "total-failure-session-count": failed,
                },
            }
        ],
    }
    return json.dumps(document).encode()


class Server:
    """A running ``serve`` child: its port and process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self) -> None:
        """Poll /healthz until it answers 200; fail if the process exits or time runs out."""
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)  # poll interval
        raise AssertionError(f"serve not healthy in {START_DEADLINE} s:\n{self.log.read_text()}")


@contextmanager
def running_serve(data_dir: Path, log: Path) -> Iterator[Server]:
    """``mailshield serve`` on ``data_dir`` at a free port, healthy; killed when the block ends."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env |= {
        "MAILSHIELD_DATA_DIR": str(data_dir),
        "MAILSHIELD_PORT": str(port),
        "MAILSHIELD_HOST": "127.0.0.1",
    }
    with (
        log.open("ab") as output,
        subprocess.Popen([*MAILSHIELD, "serve"], env=env, stdout=output, stderr=output) as process,
    ):
        server = Server(process, port, log)
        try:
            server.wait_healthy()
            yield server
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
