"""The two tools under test: their command lines, a timed run, and a check of what they wrote.

Both tools run as a user runs them: one process, from start to exit (interpreter start-up and
imports included), reading the same domain list and asking the same resolver. Their Python
bytecode is cached in the benchmark's folder (``PYTHONPYCACHEPREFIX``) so neither pays for
compiling its sources on every start.

What each run checks, per domain:

- ``mailshield check --no-smtp``: MX (+ A/AAAA of each MX), MTA-STS record and an HTTPS policy
  fetch (certificate judged, MX coverage), TLS-RPT, SPF tree, DMARC (+ organizational domain),
  DKIM (``_domainkey.<domain>``, then 9 common selectors where it exists: the lab's domains
  publish no DKIM key, so one query), BIMI, DANE/DNSSEC status from the resolver; a scored report.
- ``checkdmarc``: DNSSEC (DS/DNSKEY), SOA, NS, MX (+ A/AAAA, PTR, DNSSEC and TLSA of each MX),
  MTA-STS record and an HTTPS policy fetch, TLS-RPT, SPF tree, DMARC, BIMI. No DKIM, no score.
- with SMTP: ``mailshield check`` adds STARTTLS on every MX address (banner, EHLO, STARTTLS,
  handshake, certificate judged, EHLO again); ``checkdmarc --check-mx-tls`` adds STARTTLS on port
  25 and implicit TLS on port 465 of each MX (the lab listens on 25 only: 465 is refused at once).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The checks every healthy bulk domain must pass in mailshield's report.
_MAILSHIELD_PASSING = ("mx", "mta_sts", "tls_rpt", "spf", "dmarc")


@dataclass(frozen=True, slots=True)
class Run:
    """One tool run to time: what it is, its command line, and where it writes its results."""

    tool: str  # "mailshield" or "checkdmarc"
    mode: str  # "dns" (no SMTP) or "smtp"
    argv: tuple[str, ...]
    output: Path
    env: dict[str, str]
    ok_codes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Timing:
    """How long a run took and what it cost: wall seconds and CPU seconds of tool and lab (the
    DNS thread of this process, and the lab's daemons)."""

    wall: float
    tool_cpu: float
    dns_cpu: float
    daemon_cpu: float
    load_before: float  # 1-minute load average when the run started
    exit_code: int

    @property
    def lab_cpu(self) -> float:
        return self.dns_cpu + self.daemon_cpu


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verified run: how many domains came back, and how many with every check healthy."""

    run: Run
    timing: Timing
    domains: int
    returned: int
    healthy: int

    @property
    def rate(self) -> float:
        """Domains per second, start-up included."""
        return self.domains / self.timing.wall


def tool_env(cache: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a tool: bytecode cached under ``cache``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env | (extra or {})


def mailshield_run(
    mailshield: Path,
    domains: Path,
    output: Path,
    *,
    resolver: str,
    ca: Path,
    smtp: bool,
    concurrency: int | None,
    env: dict[str, str],
    workers: int | None = None,
) -> Run:
    """``mailshield check -f DOMAINS -o OUT.jsonl`` through ``resolver``, trusting the lab CA."""
    argv = [str(mailshield), "check", "-f", str(domains), "-o", str(output)]
    argv += ["--resolver", resolver, "--ca-bundle", str(ca), "--allow-private"]
    argv += [] if smtp else ["--no-smtp"]
    argv += ["--concurrency", str(concurrency)] if concurrency else []
    argv += ["--workers", str(workers)] if workers else []
    # 0: all healthy; 3: something could not be tested (the lab resolver does not validate
    # DNSSEC, so the DANE/DNSSEC status is unknown for every domain).
    return Run("mailshield", _mode(smtp), tuple(argv), output, env, (0, 3))


def checkdmarc_run(
    checkdmarc: Path, domains: Path, output: Path, *, resolver: str, smtp: bool, env: dict[str, str]
) -> Run:
    """``checkdmarc DOMAINS -n IP -o OUT.json`` (the domains before ``-n``, which is greedy)."""
    argv = [str(checkdmarc), str(domains), "-n", resolver, "-o", str(output)]
    argv += ["--check-mx-tls"] if smtp else []
    return Run("checkdmarc", _mode(smtp), tuple(argv), output, env, (0,))


def _mode(smtp: bool) -> str:
    return "smtp" if smtp else "dns"


def execute(run: Run, log: Path, daemon_cpu: Callable[[], float] = lambda: 0.0) -> Timing:
    """Run ``run`` to completion (stdout and stderr to ``log``), timing it.

    Tool CPU is the children's rusage; the lab's DNS CPU is this process's own CPU time, spent
    by the lab's thread while the main thread waits; ``daemon_cpu`` reads what the lab's daemons
    have spent so far.
    """
    run.output.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = os.times()
    daemons = daemon_cpu()
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        completed = subprocess.run(run.argv, env=run.env, stdout=sink, stderr=sink, check=False)
    wall = time.perf_counter() - start
    daemons = daemon_cpu() - daemons
    own_after = os.times()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in run.ok_codes:
        raise RuntimeError(
            f"{run.tool} exited with {completed.returncode}; see {log}\n  {' '.join(run.argv)}"
        )
    tool_cpu = _cpu(children_after) - _cpu(children)
    dns_cpu = (own_after.user + own_after.system) - (own.user + own.system)
    return Timing(wall, tool_cpu, dns_cpu, daemons, load, completed.returncode)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def verify(run: Run, timing: Timing, expected: list[str]) -> Outcome:
    """Read what ``run`` wrote; every expected domain must be there."""
    if run.tool == "mailshield":
        reports = _jsonl(run.output)
        healthy = sum(_mailshield_healthy(r, smtp=run.mode == "smtp") for r in reports)
    else:
        reports = _json_list(run.output)
        healthy = sum(_checkdmarc_healthy(r, smtp=run.mode == "smtp") for r in reports)
    returned = {str(report.get("domain", "")) for report in reports}
    missing = [name for name in expected if name not in returned]
    if missing:
        raise RuntimeError(f"{run.tool} left out {len(missing)} domains, e.g. {missing[:3]}")
    return Outcome(run, timing, len(expected), len(reports), healthy)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _json_list(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def _mailshield_healthy(report: dict[str, Any], *, smtp: bool) -> bool:
    statuses = {result["check"]: result["status"] for result in report["results"]}
    wanted: Iterable[str] = (*_MAILSHIELD_PASSING, "starttls") if smtp else _MAILSHIELD_PASSING
    return all(statuses.get(check) == "pass" for check in wanted)


def _checkdmarc_healthy(report: dict[str, Any], *, smtp: bool) -> bool:
    """Every record valid, the MTA-STS policy fetched (which proves that checkdmarc's own name
    lookup for ``mta-sts.<domain>`` reached the lab resolver), with SMTP: STARTTLS on each MX."""
    valid = all(
        report.get(key, {}).get("valid") is True
        for key in ("spf", "dmarc", "mta_sts", "smtp_tls_reporting")
    )
    policy = report.get("mta_sts", {}).get("policy") or {}
    hosts = report.get("mx", {}).get("hosts") or []
    starttls = all(host.get("starttls") is True for host in hosts)
    return valid and policy.get("mode") == "enforce" and bool(hosts) and (starttls or not smtp)
