"""The worlds the benchmark runs in: lab scenarios, a running lab, and a DNS query recorder.

Every address is in 127.0.12.0/24 (this benchmark's range) and, as ``run.sh`` starts the benchmark
in a private network namespace, nothing can reach beyond loopback anyway. The DNS server listens
on port 53 because checkdmarc's ``-n`` takes bare IP addresses.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rdatatype

from mailshield.lab.runner import Lab, LabThread
from mailshield.lab.scenario import Scenario, scenario_from_dict
from mailshield.lab.scenarios import generate_bulk

DNS_IP = "127.0.12.53"
BULK_MX = "127.0.12.25"
BULK_POLICY = "127.0.12.80"
ONE_DOMAIN = "one.test"
ONE_MX = ("127.0.12.26", "127.0.12.27")
ONE_POLICY = "127.0.12.81"


def bulk_scenario(count: int, latency_ms: float) -> Scenario:
    """``count`` healthy domains from the lab's bulk generator: one MX each (all on one SMTP
    listener), SPF ``mx -all``, DMARC ``p=reject``, MTA-STS enforce with its policy host (one
    HTTPS listener), TLS-RPT; every DNS answer delayed by ``latency_ms``."""
    return generate_bulk(
        count,
        name=f"bench-checker-{count}",
        dns=f"{DNS_IP}:53",
        mx_address=BULK_MX,
        policy_address=BULK_POLICY,
        latency_ms=latency_ms,
    )


def one_domain_scenario(latency_ms: float) -> Scenario:
    """One healthy domain with two MX hosts on separate addresses, its MTA-STS policy host,
    SPF, DMARC and TLS-RPT; every DNS answer delayed by ``latency_ms``."""
    records = [
        '@ TXT "v=spf1 mx -all"',
        f'_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{ONE_DOMAIN}"',
        '_mta-sts TXT "v=STSv1; id=20240101T000000"',
        f'_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{ONE_DOMAIN}"',
    ]
    data: dict[str, Any] = {
        "name": "bench-checker-one",
        "description": "one domain with two MX hosts, for the critical-path timing",
        "lab": {"dns": f"{DNS_IP}:53", "latency_ms": latency_ms},
        "domains": {
            ONE_DOMAIN: {
                "records": records,
                "mx": [
                    {"name": "mx1", "preference": 10, "addresses": [ONE_MX[0]]},
                    {"name": "mx2", "preference": 20, "addresses": [ONE_MX[1]]},
                ],
                "mta_sts": {"addresses": [ONE_POLICY]},
            }
        },
    }
    return scenario_from_dict(data)


def write_domains(scenario: Scenario, path: Path, limit: int | None = None) -> Path:
    """The scenario's domain names, one per line (the first ``limit`` of them when given)."""
    names = [domain.name for domain in scenario.domains][:limit]
    path.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return path


@contextlib.contextmanager
def running_lab(scenario: Scenario, workdir: Path) -> Iterator[Lab]:
    """The lab serving ``scenario`` from a thread of this process, stopped on exit."""
    with LabThread(scenario, workdir) as lab:
        yield lab


@dataclass(frozen=True, slots=True)
class Query:
    """A query as the lab DNS server received it (``at``: ``time.monotonic()``)."""

    at: float
    name: str
    rdtype: str
    tcp: bool


@dataclass(slots=True)
class QueryRecorder:
    """Wraps the lab DNS server's responder and notes when each query arrives.

    ``time.monotonic()`` is the system-wide monotonic clock on Linux, so the arrival times compare
    with times taken in another process (the checker's).
    """

    inner: Any
    arrivals: list[tuple[float, bytes, bool]] = field(default_factory=list)

    @classmethod
    def install(cls, lab: Lab) -> QueryRecorder:
        """Put a recorder in front of ``lab``'s DNS responder."""
        assert lab.dns is not None, "the lab is not running"
        recorder = cls(lab.dns.responder)
        lab.dns.responder = recorder  # type: ignore[assignment]
        return recorder

    def respond(self, wire: bytes, *, tcp: bool) -> Any:
        self.arrivals.append((time.monotonic(), wire, tcp))
        return self.inner.respond(wire, tcp=tcp)

    def clear(self) -> None:
        self.arrivals.clear()

    def queries(self) -> list[Query]:
        """What arrived, decoded (outside the server's hot path)."""
        decoded = []
        for at, wire, tcp in self.arrivals:
            question = dns.message.from_wire(wire).question[0]
            name = question.name.to_text(omit_final_dot=True)
            decoded.append(Query(at, name, dns.rdatatype.to_text(question.rdtype), tcp))
        return decoded
