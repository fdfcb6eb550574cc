"""``mailshield serve --workers N``: processes sharing one port, each report stored once, the
periodic jobs in one worker, and a server that stops whole."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from mailshield.interfaces.cli.serve_workers import ServePlan, listen, supervise
from mailshield.lab.ca import LabCA
from mailshield.services.settings import load_settings
from mailshield.storage import Database
from mailshield.storage.migrate import upgrade
from mailshield.storage.report_tables import tlsrpt_reports
from mailshield.storage.tables import domains, users

MAILSHIELD = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]
START_DEADLINE = 60.0
LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+) \((\d+) worker processes\)")
CONNECTIONS = 16
REPORTS_PER_CONNECTION = 5


def report_json(report_id: str) -> bytes:
    """A small valid TLS report (RFC 8460 §4.4) for example.com with the given report-id."""
    policy = {"policy-type": "sts", "policy-domain": "example.com", "mx-host": ["mx.example.com"]}
    summary = {"total-successful-session-count": 3, "total-failure-session-count": 0}
    document = {
        "organization-name": "Workers Test Reporter",
        "date-range": {
            "start-datetime": "2024-05-01T00:00:00Z",
            "end-datetime": "2024-05-01T23:59:59Z",
        },
        "contact-info": "tlsrpt@reporter.example",
        "report-id": report_id,
        "policies": [{"policy": policy, "summary": summary}],
    }
    return json.dumps(document).encode()


def sqlite_at(data_dir: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{data_dir / 'mailshield.db'}")


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    """A data folder whose SQLite database is migrated and serves example.com."""
    folder = tmp_path / "data"
    async with sqlite_at(folder) as db:
        await upgrade(db)
        async with db.transaction() as connection:
            owner = await connection.execute(
                insert(users).values(email="op@localhost", password_hash="!").returning(users.c.id)
            )
            await connection.execute(
                insert(domains).values(owner_id=owner.scalar_one(), name="example.com")
            )
    return folder


class Served:
    """A running ``serve --workers N`` process: where it listens, its workers, its log."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log
        self.scheme, self.port, self.workers = self._announced()

    def _announced(self) -> tuple[str, int, int]:
        """The announced address, read from the log once it is there (bounded)."""
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if found := LISTENING.search(self.log.read_text()):
                return found.group(1), int(found.group(2)), int(found.group(3))
            if self.process.poll() is not None:
                pytest.fail(f"serve exited:\n{self.log.read_text()}")
            time.sleep(0.05)  # poll interval while the command starts
        pytest.fail(f"serve announced no address:\n{self.log.read_text()}")

    def children(self) -> list[int]:
        """The worker processes, once all of them are forked (bounded)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            found = [int(pid) for pid in path.read_text().split()]
            if len(found) == self.workers:
                return found
            time.sleep(0.05)  # poll interval while the workers are forked
        pytest.fail(f"not every worker started:\n{self.log.read_text()}")


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A lab root, and a certificate with key for 127.0.0.1 issued by it."""
    ca = LabCA()
    root = ca.write_root(tmp_path / "tls" / "root.pem")
    cert, key = ca.issue("127.0.0.1", "localhost").write(tmp_path / "tls", "serve")
    return root, cert, key


@pytest.fixture
def started(data_dir: Path, tmp_path: Path, tls_files: tuple[Path, Path, Path]) -> Iterator[Served]:
    """``mailshield serve --workers 2`` over HTTPS on a free port; stopped at the end."""
    _, cert, key = tls_files
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env |= {
        "MAILSHIELD_DATA_DIR": str(data_dir),
        "MAILSHIELD_HOST": "127.0.0.1",
        "MAILSHIELD_EMBEDDED_WORKER": "false",
    }
    command = [*MAILSHIELD, "serve", "--port=0", "--workers=2", "--no-access-log"]
    command += [f"--tls-cert={cert}", f"--tls-key={key}"]
    log = tmp_path / "serve.log"
    with (
        log.open("wb") as output,
        subprocess.Popen(command, env=env, stdout=output, stderr=output) as process,
    ):
        try:
            yield Served(process, log)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=60)


def established_sockets(pid: int, port: int) -> int:
    """How many established TCP connections on local ``port`` process ``pid`` holds."""
    inodes = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        lines = table.read_text().splitlines()[1:] if table.exists() else []
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


def post_reports(connection: http.client.HTTPSConnection, number: int) -> list[tuple[str, int]]:
    """POST this connection's distinct reports over one keep-alive connection."""
    answers = []
    for sequence in range(REPORTS_PER_CONNECTION):
        report_id = f"workers-{number}-{sequence}"
        connection.request(
            "POST",
            "/tlsrpt",
            body=report_json(report_id),
            headers={"Content-Type": "application/tlsrpt+json"},
        )
        response = connection.getresponse()
        response.read()
        answers.append((report_id, response.status))
    return answers


async def stored_reports(data_dir: Path) -> Counter[str]:
    async with sqlite_at(data_dir) as db, db.connect() as connection:
        rows = await connection.execute(select(tlsrpt_reports.c.report_id))
        return Counter(rows.scalars())


async def test_two_workers_share_the_port_and_store_each_report_once(
    started: Served, data_dir: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    """Reports posted over HTTPS reach both workers; each is answered 201 and stored once."""
    assert (started.scheme, started.workers) == ("https", 2)
    context = ssl.create_default_context(cafile=str(tls_files[0]))
    connections = [
        http.client.HTTPSConnection("127.0.0.1", started.port, timeout=30, context=context)
        for _ in range(CONNECTIONS)
    ]
    try:
        answers = [
            answer
            for number, connection in enumerate(connections)
            for answer in await asyncio.to_thread(post_reports, connection, number)
        ]
        workers = started.children()
        held = [established_sockets(pid, started.port) for pid in workers]
    finally:
        for connection in connections:
            connection.close()
    assert all(count > 0 for count in held), held  # all on one worker: about 1 in 30,000
    assert sum(held) == CONNECTIONS
    assert {status for _, status in answers} == {201}
    started.process.send_signal(signal.SIGTERM)
    assert started.process.wait(timeout=60) == 0
    assert await stored_reports(data_dir) == Counter({report_id: 1 for report_id, _ in answers})


def health_over(
    context: ssl.SSLContext, port: int, session: ssl.SSLSession | None
) -> tuple[ssl.SSLSession | None, bool]:
    """GET /healthz on a new TLS connection offering ``session``; the session it ends with
    (TLS 1.3 tickets come after the handshake) and whether the offered one was resumed."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls,
    ):
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while tls.recv(4096):
            pass
        return tls.session, bool(tls.session_reused)


RECONNECTS = 12


def test_a_reconnecting_client_resumes_on_any_worker(
    started: Served, tls_files: tuple[Path, Path, Path]
) -> None:
    """Workers share their session-ticket keys: every reconnection resumes the first session,
    whichever worker it lands on."""
    context = ssl.create_default_context(cafile=str(tls_files[0]))
    session, _ = health_over(context, started.port, None)
    assert session is not None
    resumed = [health_over(context, started.port, session)[1] for _ in range(RECONNECTS)]
    assert all(resumed), resumed


def test_a_worker_that_dies_stops_the_server(started: Served) -> None:
    """When one worker is killed the others are stopped and serve exits 1 (to be restarted)."""
    first, second = started.children()
    os.kill(second, signal.SIGKILL)
    assert started.process.wait(timeout=60) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_workers_stop_when_the_supervisor_is_killed(started: Served) -> None:
    """A supervisor killed with SIGKILL passes no stop on; its workers stop by themselves."""
    workers = started.children()
    started.process.kill()
    started.process.wait(timeout=30)
    deadline = time.monotonic() + START_DEADLINE
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, f"workers still running:\n{started.log.read_text()}"
        time.sleep(0.05)  # poll interval while they shut down


def test_listen_binds_one_socket_per_worker_on_one_port(capsys: pytest.CaptureFixture[str]) -> None:
    """Port 0 is resolved once; every worker's socket listens on it, and the address is told."""
    sockets = listen("127.0.0.1", 0, ServePlan(workers=3, scheme="https"))
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) == 3
        assert len(ports) == 1
        announced = capsys.readouterr().err
        assert f"listening on https://127.0.0.1:{ports.pop()} (3 worker processes)" in announced
    finally:
        for sock in sockets:
            sock.close()


def test_only_the_first_worker_runs_the_jobs(tmp_path: Path) -> None:
    """Of three forked workers exactly one is asked to run the periodic jobs; when it ends, the
    others are stopped and the status says a worker ended on its own."""
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(3)]
    record = tmp_path / "roles"
    record.mkdir()

    def worker(*_arguments: Any, jobs: bool) -> None:
        (record / f"{os.getpid()}-{'jobs' if jobs else 'serve'}").touch()
        if not jobs:
            signal.pause()  # serve until stopped
        deadline = time.monotonic() + START_DEADLINE
        while len(list(record.iterdir())) < len(sockets) and time.monotonic() < deadline:
            time.sleep(0.01)  # the jobs worker ends once every worker has said what it is

    handler = signal.getsignal(signal.SIGTERM)
    settings = load_settings(data_dir=tmp_path / "data")
    status = supervise(None, settings, sockets, worker=worker)  # type: ignore[arg-type]
    roles = Counter(path.name.split("-")[1] for path in record.iterdir())
    assert roles == Counter({"jobs": 1, "serve": 2})
    assert status == 1
    assert all(sock.fileno() == -1 for sock in sockets)  # none left open in the supervisor
    assert signal.getsignal(signal.SIGTERM) is handler
