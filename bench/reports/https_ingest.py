"""HTTPS ingest benchmark: keep-alive clients POST distinct TLS reports to ``/tlsrpt``.

    uv run python bench/reports/https_ingest.py [--seconds 10] [--clients 128] [--workers 1]
        [--client wrk|python] [--plain] [--access-log] [--bodies 40000] [--scratch DIR]

1. Writes ``--bodies`` distinct gzip reports (``generate.py``; 50 policy domains) as files
   plus a manifest (kept in ``--scratch`` and reused by later runs), a new SQLite database
   with the 50 domains registered, and a throwaway certificate (trustme).
2. Starts ``mailshield serve --port 0 --workers N --tls-cert … --tls-key …
   --no-access-log`` as an operator expecting high rates would (HTTP with ``--plain``; the
   access log, serve's default, with ``--access-log``: about a tenth of the server's CPU per
   report); periodic jobs off. Waits until ``/healthz`` answers.
3. Runs the load generator for ``--seconds``: Debian's ``wrk`` with ``post_reports.lua``
   (``--clients`` connections on one thread; every body posted once; requests after a
   thread's share is used up are answered 415 and not counted), or ``post_client.py``.
4. Prints the answers by status; reports committed (counted in the database) per second and
   2xx answers per second; the server's CPU seconds during the load (every process) and the
   client's, each per report; the load average before and after. Checks that the database
   holds each report once and at least every acknowledged one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import trustme
from sqlalchemy import func, insert, select

from mailshield.storage import Database
from mailshield.storage.migrate import upgrade
from mailshield.storage.report_tables import tlsrpt_reports
from mailshield.storage.tables import domains, users

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from generate import domain_name, report  # noqa: E402 - beside this file

DOMAINS = 50
LISTENING = re.compile(r"listening on https?://127\.0\.0\.1:(\d+)")


@dataclass
class Load:
    """What the load generator saw, and what it cost."""

    statuses: Counter[int]
    seconds: float
    cpu: float


def write_bodies(folder: Path, count: int) -> Path:
    """``count`` distinct gzip reports as files in ``folder``; the manifest listing them."""
    manifest = folder / f"manifest-{count}"
    if manifest.exists():
        return manifest
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(8460)
    paths = []
    for index in range(count):
        path = folder / f"{index:06d}.json.gz"
        path.write_bytes(report(index, DOMAINS, rng)[1])
        paths.append(str(path))
    manifest.write_text("\n".join(paths) + "\n")
    return manifest


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


async def stored(data: Path) -> tuple[int, int]:
    """Stored reports, and distinct (organization, report-id) keys among them."""
    async with Database(f"sqlite+aiosqlite:///{data / 'mailshield.db'}") as db, db.connect() as c:
        keys = select(tlsrpt_reports.c.organization_name, tlsrpt_reports.c.report_id).distinct()
        total = await c.execute(select(func.count()).select_from(tlsrpt_reports))
        distinct = await c.execute(select(func.count()).select_from(keys.subquery()))
        return int(total.scalar_one()), int(distinct.scalar_one())


def start_server(args: argparse.Namespace, scratch: Path, data: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("mailshield")),
        "serve",
        "--port=0",
        f"--workers={args.workers}",
        "--access-log" if args.access_log else "--no-access-log",
    ]
    if not args.plain:
        command += [f"--tls-cert={scratch / 'cert.pem'}", f"--tls-key={scratch / 'key.pem'}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env |= {
        "MAILSHIELD_DATA_DIR": str(data),
        "MAILSHIELD_HOST": "127.0.0.1",
        "MAILSHIELD_EMBEDDED_WORKER": "false",
    }
    log = (scratch / "serve.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def wait_ready(process: subprocess.Popen[bytes], log: Path, scheme: str, ca: Path) -> int:
    """The port once the server announced it and ``/healthz`` answers 200 (bounded)."""
    deadline = time.monotonic() + 60
    port = None
    context = ssl.create_default_context(cafile=str(ca)) if scheme == "https" else None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        if port is None and (found := LISTENING.search(log.read_text())):
            port = int(found.group(1))
        if port is not None:
            url = f"{scheme}://127.0.0.1:{port}/healthz"
            try:
                with urllib.request.urlopen(url, timeout=5, context=context) as answer:
                    if answer.status == 200:
                        return port
            except OSError:
                pass
        time.sleep(0.05)  # poll interval while the server starts
    raise SystemExit(f"server not ready:\n{log.read_text()}")


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (the serve workers), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for member in [pid, *map(int, children)]:
        fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_load(args: argparse.Namespace, port: int, manifest: Path) -> Load:
    """Run the chosen load generator to its end; its answers, duration and CPU seconds."""
    if args.client == "wrk":
        url = f"{'http' if args.plain else 'https'}://127.0.0.1:{port}/tlsrpt/v1"
        script = str(HERE / "post_reports.lua")
        command = ["wrk", "-t1", f"-c{args.clients}", f"-d{args.seconds}s", "-s", script, url]
        command += ["--", str(manifest), "1"]
    else:
        command = [sys.executable, str(HERE / "post_client.py"), str(port), str(manifest)]
        command += [str(args.seconds), str(args.clients)] + ([] if args.plain else ["--tls"])
    with subprocess.Popen(command, stdout=subprocess.PIPE) as client:
        assert client.stdout is not None
        output = client.stdout.read().decode()
        _, status, usage = os.wait4(client.pid, 0)
        client.returncode = os.waitstatus_to_exitcode(status)
    if client.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{output}")
    statuses: Counter[int] = Counter()
    seconds = 0.0
    for line in output.splitlines():
        match line.split():
            case ["status", code, count]:
                statuses[int(code)] += int(count)
            case ["duration_us", micros]:
                seconds = int(micros) / 1e6
    return Load(statuses, seconds, usage.ru_utime + usage.ru_stime)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=128)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk")
    parser.add_argument("--plain", action="store_true", help="HTTP instead of HTTPS")
    parser.add_argument("--access-log", action="store_true", help="serve's default log line")
    parser.add_argument("--bodies", type=int, default=40_000)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/mailshield-bench-https"))
    args = parser.parse_args()
    scratch: Path = args.scratch
    manifest = write_bodies(scratch / "bodies", args.bodies)
    data = scratch / f"data-{os.getpid()}"
    asyncio.run(prepare(data, DOMAINS))
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(scratch / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(scratch / "key.pem"))
    ca.cert_pem.write_to_path(str(scratch / "ca.pem"))
    scheme = "http" if args.plain else "https"
    server = start_server(args, scratch, data)
    try:
        port = wait_ready(server, scratch / "serve.log", scheme, scratch / "ca.pem")
        load_before, cpu_before = _loadavg(), process_tree_cpu(server.pid)
        load = run_load(args, port, manifest)
        server_cpu = process_tree_cpu(server.pid) - cpu_before
        load_after = _loadavg()
    finally:
        stop_server(server)
    total, distinct = asyncio.run(stored(data))
    shutil.rmtree(data)
    print_figures(args, load, server_cpu, (total, distinct), (load_before, load_after))


def print_figures(
    args: argparse.Namespace,
    load: Load,
    server_cpu: float,
    counts: tuple[int, int],
    loads: tuple[str, str],
) -> None:
    total, distinct = counts
    acknowledged = sum(n for code, n in load.statuses.items() if 200 <= code < 300)
    created = load.statuses.get(201, 0)
    scheme = "http" if args.plain else "https"
    print(
        f"{scheme} ingest, {args.client}, {args.clients} connections, {args.workers} worker(s):"
        f" {load.seconds:.2f} s; answers {dict(sorted(load.statuses.items()))}\n"
        f"  committed {total} reports ({total / load.seconds:.0f}/s), 2xx {acknowledged}"
        f" ({acknowledged / load.seconds:.0f}/s)\n"
        f"  CPU s: server {server_cpu:.2f} ({server_cpu / total * 1000:.2f} ms/report),"
        f" client {load.cpu:.2f} ({load.cpu / max(acknowledged, 1) * 1000:.2f} ms/report)\n"
        f"  load average before {loads[0]}, after {loads[1]}"
    )
    if total != distinct or total < created:
        raise SystemExit(
            f"database check failed: {total} rows, {distinct} distinct, {created} 201s"
        )
    print(f"  database: {total} reports, each once; every 201 among them")


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
