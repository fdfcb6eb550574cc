"""``python -m bench.checker``: the checker benchmark (normally started by ``run.sh``).

Expects to run in a private network namespace where ``/etc/resolv.conf`` names the lab DNS
server (``run.sh`` arranges both), so that checkdmarc's own name lookups (its HTTPS policy fetch
and SMTP tests use the system resolver, not ``-n``) reach the lab and nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.checker import report
from bench.checker.critical_path import time_one_domain
from bench.checker.tools import (
    Outcome,
    Run,
    checkdmarc_run,
    execute,
    mailshield_run,
    tool_env,
    verify,
)
from bench.checker.world import DNS_IP, bulk_scenario, running_bulk_lab, write_domains

REPOSITORY = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # so the tool being timed is stopped too
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    info = report.machine(args.checkdmarc, REPOSITORY)
    _say(*report.machine_lines(info))
    summary: dict[str, Any] = {"machine": info, "bulk": [], "ratios": []}
    if not args.skip_bulk:
        _warm_up(args, workdir)
        for latency in args.latencies:
            _bulk_at(args, workdir, latency, summary)
    if not args.skip_single:
        env = tool_env(workdir / "pycache")
        single = time_one_domain(
            workdir, Path(sys.executable), env, latency_ms=args.single_latency, repeat=args.repeat
        )
        _say(*report.critical_path_lines(single))
        summary["one_domain"] = single.as_dict()
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    _say("", f"summary: {workdir / 'summary.json'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.checker", description=__doc__)
    parser.add_argument("--domains", type=int, default=1000, help="bulk domains (default 1000)")
    parser.add_argument("--workdir", type=Path, required=True, help="scratch folder")
    parser.add_argument("--checkdmarc", type=Path, required=True, help="checkdmarc executable")
    parser.add_argument("--mailshield", type=Path, default=Path(sys.prefix) / "bin" / "mailshield")
    parser.add_argument(
        "--latencies", type=_floats, default=[0.0, 20.0], help="ms per DNS answer, e.g. 0,20"
    )
    parser.add_argument(
        "--checkdmarc-sample",
        type=int,
        default=200,
        help="with injected latency, checkdmarc checks only the first N domains (it checks one "
        "domain after another, so its rate does not depend on the list length); 0: all",
    )
    parser.add_argument("--concurrency", type=int, help="mailshield --concurrency")
    parser.add_argument("--workers", type=int, help="mailshield --workers (default: its own)")
    parser.add_argument("--single-latency", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=5, help="single-domain checks to time")
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--skip-single", action="store_true")
    return parser


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def _warm_up(args: argparse.Namespace, workdir: Path) -> None:
    """Run each tool once on a few domains, so both start with their bytecode cached."""
    scenario = bulk_scenario(5, 0.0)
    with running_bulk_lab(scenario, workdir / "lab") as lab:
        domains = write_domains(scenario, workdir / "warm-up.txt")
        for run in _runs(args, workdir, domains, lab.ca_path, smtp=True, tag="warm-up"):
            execute(run, workdir / f"{run.tool}-warm-up.log")


def _bulk_at(
    args: argparse.Namespace, workdir: Path, latency: float, summary: dict[str, Any]
) -> None:
    """Both tools, without and with SMTP, each on a freshly started lab (no warm answer cache)."""
    _say(*report.table_header(latency))
    scenario = bulk_scenario(args.domains, latency)
    sample = args.checkdmarc_sample if latency > 0 and args.checkdmarc_sample > 0 else None
    for smtp in (False, True):
        outcomes: dict[str, Outcome] = {}
        for tool in ("mailshield", "checkdmarc"):
            limit = sample if tool == "checkdmarc" else None
            names = [d.name for d in scenario.domains][:limit]
            with running_bulk_lab(scenario, workdir / "lab") as lab:
                domains = write_domains(scenario, workdir / f"domains-{len(names)}.txt", limit)
                tag = f"{latency:g}ms"
                run = _run_of(args, workdir, tool, domains, lab.ca_path, smtp=smtp, tag=tag)
                timing = execute(run, workdir / f"{tool}-{run.mode}-{tag}.log", lab.daemon_cpu)
            outcomes[tool] = verify(run, timing, names)
            _say(report.outcome_line(outcomes[tool]))
            summary["bulk"].append({"latency_ms": latency, **report.outcome_dict(outcomes[tool])})
        mine, theirs = outcomes["mailshield"], outcomes["checkdmarc"]
        _say(report.ratio_line(mine, theirs, latency))
        summary["ratios"].append(
            {"latency_ms": latency, "mode": mine.run.mode, "ratio": report.ratio(mine, theirs)}
        )


def _runs(
    args: argparse.Namespace, workdir: Path, domains: Path, ca: Path, *, smtp: bool, tag: str
) -> Iterator[Run]:
    for tool in ("mailshield", "checkdmarc"):
        yield _run_of(args, workdir, tool, domains, ca, smtp=smtp, tag=tag)


def _run_of(
    args: argparse.Namespace,
    workdir: Path,
    tool: str,
    domains: Path,
    ca: Path,
    *,
    smtp: bool,
    tag: str,
) -> Run:
    mode = "smtp" if smtp else "dns"
    if tool == "mailshield":
        return mailshield_run(
            args.mailshield,
            domains,
            workdir / f"mailshield-{mode}-{tag}.jsonl",
            resolver=DNS_IP,
            ca=ca,
            smtp=smtp,
            concurrency=args.concurrency,
            env=tool_env(workdir / "pycache"),
            workers=args.workers,
        )
    # checkdmarc's HTTPS fetch (requests) and SMTP tests (ssl) must trust the lab CA.
    trust = {"REQUESTS_CA_BUNDLE": str(ca), "SSL_CERT_FILE": str(ca)}
    return checkdmarc_run(
        args.checkdmarc,
        domains,
        workdir / f"checkdmarc-{mode}-{tag}.json",
        resolver=DNS_IP,
        smtp=smtp,
        env=tool_env(workdir / "pycache", trust),
    )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
