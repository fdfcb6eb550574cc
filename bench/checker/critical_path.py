"""One full domain check timed against its critical path.

The domain (``one.test``, see :func:`bench.checker.world.one_domain_scenario`) has two MX hosts,
an MTA-STS policy host, SPF ``mx -all``, DMARC and TLS-RPT. Only DNS answers are delayed (the lab
DNS server's global latency); TCP, TLS and HTTP on loopback add no injected delay. So the critical
path is the longest chain of DNS lookups where each lookup's *name* is only known from an earlier
answer, times the latency. Lookups whose names are known up front can all be sent at once:

====================  ==============================================================  ======
chain                 lookups in sequence (→: needs the previous answer)              rounds
====================  ==============================================================  ======
STARTTLS on each MX   MX one.test → A/AAAA mx1, mx2 → SMTP (banner, EHLO, STARTTLS,   2
                      handshake, EHLO: loopback, no injected delay)
DANE                  MX one.test → TLSA _25._tcp.mx1, mx2                            2
MTA-STS               TXT _mta-sts + A/AAAA mta-sts.one.test (names known) → HTTPS    1
                      GET; MX coverage needs MX one.test (round 1 as well)
SPF                   TXT one.test; its ``mx`` term needs MX one.test → A/AAAA of     2
                      the MX hosts, the same lookups as for STARTTLS
DMARC, BIMI           TXT _dmarc.one.test, TXT default._bimi.one.test (names known)   1
TLS-RPT               TXT _smtp._tls.one.test; rua domain one.test: its MX as above   1
DKIM                  TXT _domainkey.one.test (→ TXT <selector>._domainkey.one.test    1
                      for each common selector, only where _domainkey exists: not here)
====================  ==============================================================  ======

Critical path: 2 rounds × latency (100 ms at 50 ms). Target: a full check within 1.2× of it.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.checker.world import (
    DNS_IP,
    ONE_DOMAIN,
    Query,
    QueryRecorder,
    one_domain_scenario,
    running_lab,
)

CRITICAL_ROUNDS = 2
TARGET_FACTOR = 1.2


@dataclass(frozen=True, slots=True)
class TimedCheck:
    """One check: its duration and the DNS queries it sent, as offsets from its start."""

    seconds: float
    statuses: dict[str, str]
    queries: tuple[tuple[float, Query], ...]

    def rounds(self, latency: float) -> int:
        """How many latency periods had passed when the last query went out, plus one: the
        sequential DNS rounds this check actually used."""
        last = max((offset for offset, _ in self.queries), default=0.0)
        return math.floor(last / latency) + 1


@dataclass(frozen=True, slots=True)
class CriticalPathResult:
    """The repeated single-domain check against its critical path."""

    latency_ms: float
    checks: tuple[TimedCheck, ...]

    @property
    def critical_seconds(self) -> float:
        return CRITICAL_ROUNDS * self.latency_ms / 1000

    @property
    def median(self) -> float:
        return statistics.median(check.seconds for check in self.checks)

    @property
    def best(self) -> TimedCheck:
        return min(self.checks, key=lambda check: check.seconds)

    @property
    def factor(self) -> float:
        """The median check's duration over the critical path."""
        return self.median / self.critical_seconds

    def as_dict(self) -> dict[str, Any]:
        latency = self.latency_ms / 1000
        return {
            "latency_ms": self.latency_ms,
            "critical_rounds": CRITICAL_ROUNDS,
            "critical_seconds": self.critical_seconds,
            "check_seconds": [check.seconds for check in self.checks],
            "median_seconds": self.median,
            "factor": self.factor,
            "target_factor": TARGET_FACTOR,
            "rounds_used": [check.rounds(latency) for check in self.checks],
            "best_check_queries": [
                {"offset_ms": round(offset * 1000, 1), "query": f"{q.rdtype} {q.name}"}
                for offset, q in self.best.queries
            ],
        }


def time_one_domain(
    workdir: Path, python: Path, env: dict[str, str], *, latency_ms: float, repeat: int
) -> CriticalPathResult:
    """Check ``one.test`` ``repeat`` times in one fresh process against a lab that delays every
    DNS answer by ``latency_ms``; note which queries each check sent, and when."""
    scenario = one_domain_scenario(latency_ms)
    with running_lab(scenario, workdir / "lab-one") as lab:
        recorder = QueryRecorder.install(lab)
        argv = [str(python), "-m", "bench.checker.one_check", ONE_DOMAIN]
        argv += ["--resolver", DNS_IP, "--ca", str(lab.ca_path), "--repeat", str(repeat)]
        completed = subprocess.run(
            argv, env=env, cwd=_repository(), capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the single-domain check failed:\n{completed.stderr}")
        queries = recorder.queries()
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return CriticalPathResult(latency_ms, tuple(_timed(line, queries) for line in lines))


def _timed(line: dict[str, Any], queries: list[Query]) -> TimedCheck:
    start, seconds = float(line["start"]), float(line["seconds"])
    own = tuple((q.at - start, q) for q in queries if start <= q.at <= start + seconds)
    return TimedCheck(seconds, dict(line["statuses"]), own)


def _repository() -> Path:
    return Path(__file__).resolve().parents[2]
