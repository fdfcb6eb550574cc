"""A running lab: every server a scenario describes, started together and stopped together.

``async with Lab(scenario, workdir) as lab:`` starts, in order: the lab CA (``ca.pem`` in
``workdir``), the authoritative DNS server, the MX hosts and the MTA-STS policy hosts, and, when a
zone is signed, Knot and a validating Unbound (:mod:`mailshield.lab.dnssec`). It then exposes what
a checker needs: :attr:`Lab.resolvers`, :attr:`Lab.ca_path` and each host's address
(:meth:`Lab.host`). If any step fails, whatever had started is stopped again.

Hosts sharing an address share one server (one listener, one certificate naming them all), so a
bulk scenario with a thousand MX names on one address runs one SMTP server.

The same lab runs without an event loop of the caller's (:class:`LabThread`, for synchronous
tests and benchmarks) and as a foreground process until SIGTERM/SIGINT
(:func:`run_until_signalled`, for ``mailshield lab``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import os
import signal
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

import dns.name

from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.ca import LabCA
from mailshield.lab.dns_server import DnsServer, Responder
from mailshield.lab.dnssec import DnssecLab, LabZone
from mailshield.lab.endpoint import Endpoint, loopback
from mailshield.lab.mx_host import LabMxServer
from mailshield.lab.policy_host import LabPolicyServer, PolicySite
from mailshield.lab.process import LabProcessError
from mailshield.lab.scenario import MxHost, PolicyHost, Ports, Scenario
from mailshield.lab.tls import BehaviourCertificates, LabUnsupported
from mailshield.lab.zones import ZoneSet, build_zones


class LabError(RuntimeError):
    """The lab could not start; the message says what failed and what to do about it."""


@dataclass(frozen=True, slots=True)
class HostInfo:
    """One lab server as a checker sees it: the names it serves, where, and how it behaves."""

    kind: str  # "smtp" or "https"
    names: tuple[str, ...]
    address: str
    port: int
    behaviour: str
    listening: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "names": list(self.names),
            "address": self.address,
            "port": self.port,
            "behaviour": self.behaviour,
            "listening": self.listening,
        }


class Lab:
    """Every server of ``scenario``; files (CA, daemon configs and logs) go to ``workdir``.

    ``privileged`` picks the scenario's ports (``[lab]``) or its unprivileged ones; by default
    the ports for the current user (root or not).
    """

    def __init__(
        self,
        scenario: Scenario,
        workdir: Path,
        *,
        privileged: bool | None = None,
        tarpit_delay: float = 60.0,
    ) -> None:
        self.scenario = scenario
        self.workdir = Path(workdir)
        privileged = os.geteuid() == 0 if privileged is None else privileged
        self.ports: Ports = scenario.lab.ports_for(privileged=privileged)
        self.zones: ZoneSet = build_zones(scenario)
        self.ca = LabCA()
        self.ca_path = self.workdir / "ca.pem"
        self.dns: DnsServer | None = None
        self.dnssec: DnssecLab | None = None
        self.hosts: list[HostInfo] = []
        self._certificates = BehaviourCertificates(self.ca)
        self._tarpit_delay = tarpit_delay
        self._stack = contextlib.AsyncExitStack()

    # -- what a checker needs ------------------------------------------------------------------

    @property
    def dns_address(self) -> Endpoint:
        """The authoritative server (unsigned zones, faults)."""
        if self.dns is None:
            raise LabError("the lab is not running")
        return Endpoint(*self.dns.address)

    @property
    def resolver(self) -> Endpoint:
        """The address a checker should query: Unbound when zones are signed, else the server."""
        return self.dnssec.resolver if self.dnssec is not None else self.dns_address

    @property
    def resolvers(self) -> list[str]:
        """The resolver as ``IP:PORT`` strings, the form of MailShield's ``resolvers`` setting."""
        return [self.resolver.colon()]

    def host(self, name: str) -> HostInfo:
        """The server for MX or policy host ``name`` (the first one, if it has several)."""
        wanted = name.lower().rstrip(".")
        for host in self.hosts:
            if wanted in host.names:
                return host
        raise KeyError(name)

    @property
    def pids(self) -> tuple[int, ...]:
        """Child processes the lab started (Knot, Unbound), for bookkeeping."""
        return self.dnssec.pids if self.dnssec is not None else ()

    def summary(self) -> dict[str, Any]:
        """Everything above as JSON-ready data (for state files and ``--json`` output)."""
        return {
            "scenario": self.scenario.name,
            "resolvers": self.resolvers,
            "dns": self.dns_address.colon(),
            "ca": str(self.ca_path.resolve()),
            "smtp_port": self._shared_port("smtp", self.ports.smtp),
            "https_port": self._shared_port("https", self.ports.https),
            "domains": [domain.name for domain in self.scenario.domains],
            "hosts": [host.as_dict() for host in self.hosts],
            "daemon_pids": list(self.pids),
        }

    def _shared_port(self, kind: str, configured: int) -> int:
        """The one port all listening hosts of ``kind`` use (the real one when configured as 0)."""
        ports = {h.port for h in self.hosts if h.kind == kind and h.listening}
        return ports.pop() if len(ports) == 1 else configured

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start everything; on any failure stop what started and raise :class:`LabError`."""
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.ca.write_root(self.ca_path)
            await self._start_dns()
            await self._start_mx_hosts()
            await self._start_policy_hosts()
            await self._start_dnssec()
        except BaseException as exc:
            await self.stop()
            raise _explain(exc) from exc

    async def stop(self) -> None:
        """Stop every server and daemon (idempotent); logs and ``ca.pem`` stay in the workdir."""
        await self._stack.aclose()
        self.dns, self.dnssec = None, None

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _start_dns(self) -> None:
        responder = Responder(
            self.zones, self.scenario.faults, latency=self.scenario.lab.latency_ms / 1000
        )
        server = DnsServer(responder, self.scenario.lab.dns_host, self.ports.dns)
        self.dns = await self._stack.enter_async_context(
            _bound(server, f"DNS {self.scenario.lab.dns_host}:{self.ports.dns}")
        )

    async def _start_mx_hosts(self) -> None:
        for address, hosts in _by_address(self.scenario.mx_hosts).items():
            names = _unique(host.name for host in hosts)
            behaviour = hosts[0].behaviour
            server = LabMxServer(
                address,
                names,
                behaviour,
                certificate=self._certificates.for_mx(behaviour, names),
                port=self.ports.smtp,
                tarpit_delay=self._tarpit_delay,
            )
            await self._stack.enter_async_context(
                _bound(server, f"SMTP {address}:{self.ports.smtp}")
            )
            listening = behaviour is not MxBehaviour.REFUSED
            self.hosts.append(HostInfo("smtp", names, address, server.port, behaviour, listening))

    async def _start_policy_hosts(self) -> None:
        for address, hosts in _by_address(self.scenario.policy_hosts).items():
            names = _unique(host.name for host in hosts)
            behaviour = hosts[0].behaviour
            certificate = self._certificates.for_policy(behaviour, names)
            sites = [PolicySite(h.name, h.behaviour, h.policy, certificate) for h in hosts]
            server = LabPolicyServer(address, sites, port=self.ports.https)
            await self._stack.enter_async_context(
                _bound(server, f"HTTPS {address}:{self.ports.https}")
            )
            listening = behaviour is not PolicyBehaviour.NO_LISTENER
            self.hosts.append(HostInfo("https", names, address, server.port, behaviour, listening))

    async def _start_dnssec(self) -> None:
        """Knot for signed zones behind a validating Unbound, when the scenario has any."""
        if not self.scenario.signed_domains:
            return
        lab = self.scenario.lab
        port = self.ports.dns or None  # port 0: any free port
        zones = [
            LabZone(d.name, self._zone_text(d.name), signed=d.signed, bogus=d.bogus)
            for d in self.scenario.domains
        ]
        dnssec = DnssecLab(
            zones,
            plain_server=self.dns_address,
            resolver=[loopback(lab.resolver_host, port)],
            knot=loopback(lab.knot_host),
            workdir=self.workdir / "dnssec",
        )
        self.dnssec = await self._stack.enter_async_context(dnssec)

    def _zone_text(self, name: str) -> str:
        return self.zones.zones[dns.name.from_text(name)].to_text()


_Host = TypeVar("_Host", MxHost, PolicyHost)


def _by_address(hosts: Iterable[_Host]) -> dict[str, list[_Host]]:
    """Hosts grouped by each of their addresses, in scenario order."""
    groups: dict[str, list[_Host]] = defaultdict(list)
    for host in hosts:
        for address in host.addresses:
            groups[address].append(host)
    return groups


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


class _Server(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


_S = TypeVar("_S", bound=_Server)


@contextlib.asynccontextmanager
async def _bound(server: _S, where: str) -> AsyncIterator[_S]:
    """Start ``server`` (naming ``where`` in bind errors), yield it, stop it."""
    try:
        await server.start()
    except OSError as exc:
        raise LabError(explain_bind_error(exc, where)) from exc
    try:
        yield server
    finally:
        await server.stop()


def explain_bind_error(exc: OSError, where: str) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"cannot listen on {where}: permission denied. Ports below 1024 need root "
            "(or CAP_NET_BIND_SERVICE): run as root, or set ports of 1024 and above under "
            "[lab.unprivileged] in the scenario (used when not running as root)."
        )
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: address in use (is this lab already running?)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: address not available on this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def _explain(exc: BaseException) -> BaseException:
    """The error to raise from ``start``: lab errors as they are, daemon problems explained."""
    if isinstance(exc, LabError | asyncio.CancelledError | KeyboardInterrupt):
        return exc
    if isinstance(exc, LabProcessError | LabUnsupported):
        return LabError(str(exc))
    return exc


# -- other ways to run a lab ---------------------------------------------------------------------


class LabThread:
    """A lab running on its own event loop in a background thread.

    ``with LabThread(scenario, workdir) as lab:`` returns the started :class:`Lab` (read its
    addresses; call nothing async on it) and stops it on exit.
    """

    def __init__(self, scenario: Scenario, workdir: Path, **options: Any) -> None:
        self._lab = Lab(scenario, workdir, **options)
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="mailshield-lab", daemon=True)

    def __enter__(self) -> Lab:
        self._thread.start()
        self._ready.result()  # re-raises a start failure here
        return self._lab

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self._lab.start()
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            await self._stop.wait()
        finally:
            await self._lab.stop()


def run_until_signalled(
    scenario: Scenario,
    workdir: Path,
    on_ready: Callable[[Lab], None],
    **options: Any,
) -> None:
    """Run the lab in the foreground: ``on_ready(lab)`` once started, stop on SIGTERM/SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with Lab(scenario, workdir, **options) as lab:
            on_ready(lab)
            await stop.wait()

    asyncio.run(main())
