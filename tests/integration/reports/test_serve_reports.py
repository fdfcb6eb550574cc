"""End to end: ``mailshield serve`` as a process, reports POSTed with curl, and a hard crash."""

from __future__ import annotations

import asyncio
import http.client
import subprocess
import threading
from collections import Counter
from pathlib import Path

from report_serve import report_json, running_serve
from sqlalchemy import func, select
from tests.support.lab import require_binary

from mailshield.storage import Database
from mailshield.storage.report_tables import tlsrpt_raw, tlsrpt_reports

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
CLIENTS = 8
ACKNOWLEDGED_BEFORE_KILL = 300


def curl_post(url: str, body: Path, content_type: str) -> int:
    """POST ``body`` with curl; the HTTP status code it got."""
    curl = str(require_binary("curl"))
    result = subprocess.run(
        [
            curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}",
            "-H", f"Content-Type: {content_type}", "--data-binary", f"@{body}", url,
        ],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return int(result.stdout)


def sqlite_at(data_dir: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{data_dir / 'mailshield.db'}")


async def stored_reports(data_dir: Path) -> Counter[str]:
    """How many stored rows each report-id has in the SQLite database of ``data_dir``."""
    async with sqlite_at(data_dir) as db, db.connect() as connection:
        rows = (await connection.execute(select(tlsrpt_reports.c.report_id))).scalars()
        return Counter(rows)


async def copies_and_raw(data_dir: Path) -> tuple[int, int]:
    """The copies counter of the one stored report, and how many raw arrivals are kept."""
    async with sqlite_at(data_dir) as db, db.connect() as connection:
        copies = (await connection.execute(select(tlsrpt_reports.c.copies))).scalar_one()
        raws = await connection.execute(select(func.count()).select_from(tlsrpt_raw))
        return int(copies), int(raws.scalar_one())


async def test_curl_post_is_stored_once(served_data_dir: Path, tmp_path: Path) -> None:
    """A gzip report POSTed twice with curl: 201, then 200, and one stored report."""
    with running_serve(served_data_dir, tmp_path / "serve.log") as server:
        url = f"{server.url}/tlsrpt/v1"
        body = CORPUS / "conformant.json.gz"
        first = await asyncio.to_thread(curl_post, url, body, "application/tlsrpt+gzip")
        second = await asyncio.to_thread(curl_post, url, body, "application/tlsrpt+gzip")
    assert (first, second) == (201, 200)
    assert await stored_reports(served_data_dir) == {
        "20240501.example.com.4f1c9a2e@sender.example": 1
    }
    assert await copies_and_raw(served_data_dir) == (2, 1)


class Burst:
    """Clients posting distinct reports until the server goes away; records every 2xx."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()
        self.enough = threading.Event()

    def client(self, number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self._post_until_gone(connection, number)
        finally:
            connection.close()

    def _post_until_gone(self, connection: http.client.HTTPConnection, number: int) -> None:
        sequence = 0
        while True:
            report_id = f"crash-{number}-{sequence}"
            sequence += 1
            try:
                connection.request(
                    "POST",
                    "/tlsrpt",
                    body=report_json(report_id),
                    headers={"Content-Type": "application/tlsrpt+json"},
                )
                status = connection.getresponse()
                status.read()
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            if 200 <= status.status < 300:
                with self.lock:
                    self.acknowledged.append(report_id)
                    if len(self.acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                        self.enough.set()


async def test_kill_9_loses_no_acknowledged_report(served_data_dir: Path, tmp_path: Path) -> None:
    """Kill -9 in a burst of posts: after a restart every acknowledged report is there once."""
    log = tmp_path / "serve.log"
    with running_serve(served_data_dir, log) as server:
        burst = Burst(server.port)
        threads = [threading.Thread(target=burst.client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        assert await asyncio.to_thread(burst.enough.wait, 120), log.read_text()
        server.process.kill()  # SIGKILL in the middle of the burst
        server.process.wait(timeout=30)
        for thread in threads:
            await asyncio.to_thread(thread.join, 60)
    acknowledged = list(burst.acknowledged)
    with running_serve(served_data_dir, log) as restarted:
        url = f"{restarted.url}/tlsrpt"
        status = await asyncio.to_thread(
            curl_post, url, CORPUS / "google.json", "application/tlsrpt+json"
        )
        assert status == 201
    stored = await stored_reports(served_data_dir)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL
    assert all(stored[report_id] == 1 for report_id in acknowledged)
    assert max(stored.values()) == 1
