"""The worlds the benchmark runs in: lab scenarios, the labs serving them, a DNS query recorder.

The bulk lab (:func:`running_bulk_lab`) keeps its own CPU low: the lab's DNS server answers in a
thread of this process, Debian's Postfix is every MX and nginx every policy host
(:mod:`bench.checker.daemons`). The one-domain lab (:func:`running_lab`) is the lab's own, all
Python: its timing is about waiting, not CPU, and its servers answer at once.

Every address is in 127.0.12.0/24 (this benchmark's range) and, as ``run.sh`` starts the benchmark
in a private network namespace, nothing can reach beyond loopback anyway. The DNS server listens
on port 53 because checkdmarc's ``-n`` takes bare IP addresses.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rdatatype
import uvloop
from bench.checker.daemons import nginx_policy_host, postfix_mx, tree_cpu

from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.ca import IssuedCert, LabCA
from mailshield.lab.dns_server import DnsServer, Responder
from mailshield.lab.endpoint import Endpoint
from mailshield.lab.runner import Lab, LabThread
from mailshield.lab.scenario import Scenario, scenario_from_dict
from mailshield.lab.scenarios import generate_bulk
from mailshield.lab.zones import build_zones

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
class BulkLab:
    """A running bulk lab: the CA to trust, and what its daemons have spent."""

    ca_path: Path
    daemon_pids: tuple[int | None, ...]

    def daemon_cpu(self) -> float:
        """CPU seconds Postfix and nginx have spent so far (the DNS thread's is this process's)."""
        return sum(tree_cpu(pid) for pid in self.daemon_pids)


@contextlib.contextmanager
def running_bulk_lab(scenario: Scenario, workdir: Path) -> Iterator[BulkLab]:
    """A bulk scenario (:func:`bulk_scenario`) served by the lab's DNS server in a thread,
    Postfix on ``BULK_MX`` port 25 and nginx on ``BULK_POLICY`` port 443, each host with its
    own certificate from a fresh lab CA (chosen by SNI); everything stops on exit."""
    mx_names, policies = _bulk_hosts(scenario)
    ca = LabCA()
    ca_path = ca.write_root(workdir / "ca.pem")
    latency = scenario.lab.latency_ms / 1000
    responder = Responder(build_zones(scenario), scenario.faults, latency=latency, prerender=True)
    with (
        DnsThread(responder, DNS_IP, 53),
        postfix_mx(
            workdir / "postfix",
            Endpoint(BULK_MX, 25),
            _own(ca, mx_names),
            ca.issue("mx.bench.test"),
        ) as postfix,
        nginx_policy_host(
            workdir / "nginx",
            Endpoint(BULK_POLICY, 443),
            policies,
            _own(ca, policies),
            ca.issue("policy.bench.test"),
        ) as nginx,
    ):
        yield BulkLab(ca_path, (postfix.pid, nginx.pid))


def _own(ca: LabCA, names: Iterable[str]) -> dict[str, IssuedCert]:
    """A certificate for each host name, naming only it."""
    return {name: ca.issue(name) for name in names}


def _bulk_hosts(scenario: Scenario) -> tuple[list[str], dict[str, bytes]]:
    """The MX names and each policy host's policy; the hosts must be healthy and on the bulk
    addresses, since one Postfix and one nginx stand for all of them."""
    mx_names = list(dict.fromkeys(host.name for host in scenario.mx_hosts))
    if any(
        host.behaviour is not MxBehaviour.VALID or set(host.addresses) != {BULK_MX}
        for host in scenario.mx_hosts
    ):
        raise ValueError(f"every bulk MX must be a valid host on {BULK_MX}")
    policies = {host.name: host.policy.encode() for host in scenario.policy_hosts}
    if any(
        host.behaviour is not PolicyBehaviour.VALID or set(host.addresses) != {BULK_POLICY}
        for host in scenario.policy_hosts
    ):
        raise ValueError(f"every bulk policy host must be a valid host on {BULK_POLICY}")
    return mx_names, policies


class DnsThread:
    """The lab's DNS server on its own event loop in a background thread, as a context.

    The loop is uvloop's: it accepts and serves checkdmarc's TCP queries (7 of its 28 per
    domain) for less than half of asyncio's CPU."""

    def __init__(self, responder: Responder, host: str, port: int) -> None:
        self._server = DnsServer(responder, host, port)
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stop: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        self._ready.result()  # re-raises a bind failure here
        return self._server

    def __exit__(self, *exc_info: object) -> None:
        if self._stop is not None:
            loop, event = self._stop
            loop.call_soon_threadsafe(event.set)
        self._thread.join()

    def _run(self) -> None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        stop = asyncio.Event()
        try:
            await self._server.start()
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._stop = (asyncio.get_running_loop(), stop)
        self._ready.set_result(None)
        try:
            await stop.wait()
        finally:
            await self._server.close()


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
