"""``python -m bench.policy_server``: MailShield's policy server against nginx, and its memory.

1. Throughput: new-TLS-connection policy fetches per second against both servers in the same
   run, same certificate type (ECDSA P-256 + chain), same policy, same client
   (:mod:`bench.policy_server.load`), one server process each by default. Also reported: fetches
   per CPU-second of the server process, which stays meaningful when the client (on the same two
   cores) is the bottleneck.
2. Memory per hosted domain: RSS of the policy server after start with 1,000, 10,000 and 100,000
   names holding certificates, minus RSS with none, divided by the count.

Everything listens on 127.0.10.20/21 (loopback). Results: printed, and JSON in the work folder.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.policy_server import peers
from bench.policy_server.load import run_load
from bench.policy_server.server import POLICY

from mailshield.lab.ca import LabCA
from mailshield.storage import Database
from mailshield.storage.certificate_tables import certificates
from mailshield.storage.migrate import upgrade

NAME = "mta-sts.bench.example"
OURS, NGINX = "127.0.10.20", "127.0.10.21"
BATCH = 5000


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mailshield-bench-policy-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ca = LabCA("bench root")
    cafile = ca.write_root(workdir / "root.pem")
    issued = ca.issue(NAME)
    summary: dict[str, Any] = {"when": dt.datetime.now(dt.UTC).isoformat(), "args": vars(args)}
    if not args.skip_throughput:
        summary["throughput"] = throughput(
            args, workdir, issued.fullchain_pem, issued.key_pem, cafile
        )
    if not args.skip_memory:
        summary["memory"] = memory(args.domains, workdir, issued.fullchain_pem, issued.key_pem)
    (workdir / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"results: {workdir / 'results.json'}")
    return 0


def throughput(
    args: argparse.Namespace, workdir: Path, chain: bytes, key: bytes, cafile: Path
) -> dict[str, Any]:
    """Fetches per second (and per server CPU-second) for both servers, ``rounds`` times each."""
    url = _database(workdir / "throughput.db", [NAME], chain, key)
    rounds: list[dict[str, Any]] = []
    for round_number in range(args.rounds):
        with peers.mailshield_server(url, OURS) as (pid, port):
            ours = _measure(pid, OURS, port, cafile, args)
        with peers.nginx_server(workdir / "nginx", NGINX, NAME, chain, key, POLICY, 1) as (
            pid,
            port,
        ):
            theirs = _measure(pid, NGINX, port, cafile, args)
        row = {"round": round_number + 1, "mailshield": ours, "nginx": theirs}
        row["ratio"] = ours["per_second"] / theirs["per_second"] if theirs["per_second"] else None
        row["ratio_per_cpu"] = (
            ours["per_cpu_second"] / theirs["per_cpu_second"] if theirs["per_cpu_second"] else None
        )
        rounds.append(row)
        print(f"round {round_number + 1}: " + _round_line(ours, theirs, row))
    return {"rounds": rounds}


def _round_line(ours: dict[str, Any], theirs: dict[str, Any], row: dict[str, Any]) -> str:
    def side(name: str, data: dict[str, Any]) -> str:
        return (
            f"{name} {data['per_second']:.0f}/s ({data['per_cpu_second']:.0f} per server CPU-s, "
            f"{data['failed']} failed)"
        )

    ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}"
    per_cpu = "n/a" if row["ratio_per_cpu"] is None else f"{row['ratio_per_cpu']:.2f}"
    return f"{side('mailshield', ours)}, {side('nginx', theirs)}; ratio {ratio}, per CPU {per_cpu}"


def _measure(
    pid: int, address: str, port: int, cafile: Path, args: argparse.Namespace
) -> dict[str, Any]:
    before = peers.cpu_seconds(pid)
    result = run_load(
        address,
        port,
        NAME,
        str(cafile),
        POLICY,
        seconds=args.seconds,
        processes=args.clients,
        concurrency=args.concurrency,
        verify=args.verify,
    )
    cpu = peers.cpu_seconds(pid) - before
    return {
        "ok": result.ok,
        "failed": result.failed,
        "per_second": result.rate,
        "server_cpu_seconds": cpu,
        "per_cpu_second": result.ok / cpu if cpu else 0.0,
    }


def memory(counts: list[int], workdir: Path, chain: bytes, key: bytes) -> dict[str, Any]:
    """RSS after start with ``count`` certified names, per name above the empty baseline."""
    baseline = _rss_with(0, workdir, chain, key)
    rows = []
    for count in counts:
        rss = _rss_with(count, workdir, chain, key)
        per_domain = (rss - baseline) / count
        rows.append({"domains": count, "rss": rss, "per_domain_bytes": per_domain})
        print(
            f"memory: {count} domains, RSS {rss / 2**20:.1f} MiB, {per_domain:.0f} bytes per domain"
        )
    return {"baseline_rss": baseline, "rows": rows}


def _rss_with(count: int, workdir: Path, chain: bytes, key: bytes) -> int:
    names = [f"mta-sts.d{index:06d}.example" for index in range(count)]
    url = _database(workdir / f"memory-{count}.db", names, chain, key)
    with peers.mailshield_server(url, OURS) as (pid, _port):
        time.sleep(0.5)  # let the allocator settle after the start-up queries; not a readiness wait
        return peers.rss_bytes(pid)


def _database(path: Path, names: list[str], chain: bytes, key: bytes) -> str:
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_fill(url, names, chain, key))
    return url


async def _fill(url: str, names: list[str], chain: bytes, key: bytes) -> None:
    now = dt.datetime.now(dt.UTC)
    row = {
        "version": 1,
        "key_pem": key.decode(),
        "fullchain_pem": chain.decode(),
        "not_before": now - dt.timedelta(days=1),
        "not_after": now + dt.timedelta(days=89),
        "renew_at": now + dt.timedelta(days=59),
        "issued_at": now,
    }
    async with Database(url) as db:
        await upgrade(db)
        for start in range(0, len(names), BATCH):
            async with db.transaction() as connection:
                batch = [{"name": name, **row} for name in names[start : start + BATCH]]
                await connection.execute(certificates.insert(), batch)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.policy_server", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration per server")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="connections per client process"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per server")
    parser.add_argument(
        "--domains", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000, 100000]
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--verify", action="store_true", help="clients verify the chain too")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
