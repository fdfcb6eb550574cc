"""What the benchmark prints and saves: the machine, a table per latency, ratios, the timeline."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.checker.critical_path import TARGET_FACTOR, CriticalPathResult
from bench.checker.tools import Outcome

# Targets from the issue: how many times faster than checkdmarc, by injected DNS latency (ms).
RATIO_TARGETS = {0.0: 10.0, 20.0: 100.0}

_HEADER = (
    f"{'run':<5} {'tool':<11} {'domains':>7} {'wall s':>8} {'domains/s':>10} "
    f"{'tool CPU s':>10} {'lab CPU s':>9} {'healthy':>8} {'load':>5}"
)


def machine(checkdmarc: Path, repository: Path) -> dict[str, Any]:
    """The machine and the versions under test."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "mailshield_commit": _output(["git", "-C", str(repository), "describe", "--always"]),
        "checkdmarc": _output([str(checkdmarc), "--version"]),
        "load_average": os.getloadavg(),
    }


def machine_lines(info: dict[str, Any]) -> list[str]:
    load = ", ".join(f"{value:.2f}" for value in info["load_average"])
    return [
        f"machine: {info['cores']} cores, {info['cpu']}, Linux {info['kernel']}, "
        f"Python {info['python']}",
        f"mailshield {info['mailshield_commit']}, checkdmarc {info['checkdmarc']}; "
        f"load average at start: {load}",
    ]


def table_header(latency_ms: float) -> list[str]:
    return ["", f"== {latency_ms:g} ms per DNS answer ==", _HEADER]


def outcome_line(outcome: Outcome) -> str:
    t = outcome.timing
    return (
        f"{outcome.run.mode:<5} {outcome.run.tool:<11} {outcome.domains:>7} {t.wall:>8.2f} "
        f"{outcome.rate:>10.1f} {t.tool_cpu:>10.2f} {t.lab_cpu:>9.2f} "
        f"{outcome.healthy:>4}/{outcome.returned:<3} {t.load_before:>5.2f}"
    )


def ratio(mailshield: Outcome, checkdmarc: Outcome) -> float:
    return mailshield.rate / checkdmarc.rate


def ratio_line(mailshield: Outcome, checkdmarc: Outcome, latency_ms: float) -> str:
    target = RATIO_TARGETS.get(latency_ms)
    value = ratio(mailshield, checkdmarc)
    verdict = "" if target is None else f" (target ≥ {target:g}×: {_met(value >= target)})"
    return f"{mailshield.run.mode:<5} mailshield / checkdmarc = {value:.1f}×{verdict}"


def critical_path_lines(result: CriticalPathResult) -> list[str]:
    latency = result.latency_ms / 1000
    seconds = ", ".join(f"{check.seconds * 1000:.0f}" for check in result.checks)
    rounds = ", ".join(str(check.rounds(latency)) for check in result.checks)
    median, critical = result.median * 1000, result.critical_seconds * 1000
    lines = [
        "",
        f"== one domain (2 MX, MTA-STS, SPF, DMARC, TLS-RPT), {result.latency_ms:g} ms "
        "per DNS answer ==",
        f"checks (ms): {seconds}",
        f"median {median:.0f} ms vs critical path {critical:.0f} ms "
        f"(2 rounds × {result.latency_ms:g} ms) = {result.factor:.2f}× "
        f"(target ≤ {TARGET_FACTOR}×: {_met(result.factor <= TARGET_FACTOR)})",
        f"DNS rounds used per check: {rounds}",
        "queries of the fastest check (ms after its start):",
    ]
    lines += [f"  {offset * 1000:7.1f}  {q.rdtype} {q.name}" for offset, q in result.best.queries]
    return lines


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    t = outcome.timing
    return {
        "tool": outcome.run.tool,
        "mode": outcome.run.mode,
        "argv": list(outcome.run.argv),
        "domains": outcome.domains,
        "healthy": outcome.healthy,
        "wall_seconds": t.wall,
        "domains_per_second": outcome.rate,
        "tool_cpu_seconds": t.tool_cpu,
        "lab_cpu_seconds": t.lab_cpu,
        "lab_dns_cpu_seconds": t.dns_cpu,
        "lab_daemon_cpu_seconds": t.daemon_cpu,
        "load_before": t.load_before,
        "exit_code": t.exit_code,
    }


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _output(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "unknown"
