"""HTTPS ingest benchmark: concurrent clients POST distinct TLS reports to ``/tlsrpt``.

    uv run python bench/reports/https_ingest.py [--reports 10000] [--clients 16] [--plain]

Starts the MailShield application under uvicorn (one process, SQLite, TLS with a throwaway
CA from trustme; ``--plain`` serves HTTP instead) on a free loopback port, registers the
policy domains of the generated reports, then opens ``--clients`` keep-alive connections that
POST ``application/tlsrpt+gzip`` bodies as fast as the server answers. Each 201 means the
report was committed. Prints reports/s and checks the database holds every report once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import trustme
from sqlalchemy import func, insert, select

from mailshield.storage import Database
from mailshield.storage.migrate import upgrade
from mailshield.storage.report_tables import tlsrpt_reports
from mailshield.storage.tables import domains, users

sys.path.insert(0, str(Path(__file__).parent))
from generate import domain_name, report

SERVER = """
import sys, uvicorn
from mailshield.interfaces.api.app import create_app
from mailshield.services.settings import load_settings
data, port, cert, key = sys.argv[1:5]
tls = {"ssl_certfile": cert, "ssl_keyfile": key} if cert else {}
app = create_app(load_settings(data_dir=data))
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", **tls)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepare(data: Path, count: int) -> None:
    """Migrate a new SQLite database and register the generated reports' policy domains."""
    async with Database(f"sqlite+aiosqlite:///{data / 'mailshield.db'}") as db:
        await upgrade(db)
        async with db.transaction() as connection:
            owner = await connection.execute(
                insert(users)
                .values(email="bench@localhost", password_hash="!")
                .returning(users.c.id)
            )
            owner_id = owner.scalar_one()
            rows = [{"owner_id": owner_id, "name": domain_name(i)} for i in range(1, count + 1)]
            await connection.execute(insert(domains), rows)


async def stored(data: Path) -> int:
    async with Database(f"sqlite+aiosqlite:///{data / 'mailshield.db'}") as db, db.connect() as c:
        return int((await c.execute(select(func.count()).select_from(tlsrpt_reports))).scalar_one())


async def client(
    port: int, context: ssl.SSLContext | None, bodies: list[bytes], statuses: Counter[int]
) -> None:
    """One keep-alive connection posting bodies until none are left."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname="localhost" if context else None
    )
    head = (
        b"POST /tlsrpt/v1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/tlsrpt+gzip\r\n"
    )
    while bodies:
        body = bodies.pop()
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        statuses[int(status_line.split()[1])] += 1
    writer.close()


async def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    """Connect until the server accepts (bounded)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("server exited")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit("server did not start")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--plain", action="store_true", help="HTTP instead of HTTPS")
    args = parser.parse_args()
    rng = random.Random(8460)
    bodies = [report(i, 50, rng)[1] for i in range(args.reports)]
    with tempfile.TemporaryDirectory(prefix="ms-https-bench-") as scratch:
        data = Path(scratch) / "data"
        await prepare(data, 50)
        ca = trustme.CA()
        leaf = ca.issue_cert("localhost", "127.0.0.1")
        cert, key = Path(scratch) / "cert.pem", Path(scratch) / "key.pem"
        leaf.private_key_and_cert_chain_pem.write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        context = None
        if not args.plain:
            context = ssl.create_default_context()
            ca.configure_trust(context)
        port = free_port()
        tls = ["", ""] if args.plain else [str(cert), str(key)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
        command = [sys.executable, "-c", SERVER, str(data), str(port), *tls]
        with subprocess.Popen(command, env=env) as process:  # noqa: ASYNC220 - the server under test
            try:
                await wait_ready(port, process)
                statuses: Counter[int] = Counter()
                started = time.perf_counter()
                await asyncio.gather(
                    *(client(port, context, bodies, statuses) for _ in range(args.clients))
                )
                elapsed = time.perf_counter() - started
                server_cpu = _cpu_seconds(process.pid)
            finally:
                process.terminate()
                process.wait(30)
        count = await stored(data)
    scheme = "http" if args.plain else "https"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{scheme} ingest: {args.reports} reports, {args.clients} clients: {elapsed:.2f} s, "
        f"{args.reports / elapsed:.0f} reports/s; answers {dict(statuses)}; stored {count}; "
        f"CPU s: server {server_cpu:.1f} (incl. start-up), client process "
        f"{usage.ru_utime + usage.ru_stime:.1f} (incl. generating the bodies)"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    asyncio.run(main())
