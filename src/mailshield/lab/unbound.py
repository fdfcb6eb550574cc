"""Unbound as the lab's validating resolver, reaching only lab servers on 127.0.0.0/8.

``Unbound(stubs=..., trust_anchors=..., listen=[...])`` writes ``unbound.conf`` into a fresh
workdir, runs ``unbound -d`` and returns from ``start()`` once every listen address answers.
Each :class:`StubZone` sends a zone's queries to given servers (Knot for signed zones, the lab's
Python DNS server for the rest); ``fallback`` (a forward zone) takes every other name. Answers
under a trust anchor are validated (RFC 4035 §5): secure ones get AD, bogus ones SERVFAIL.

Unbound never sends a query outside 127.0.0.0/8: every other IPv4 block is listed in
``do-not-query-address`` and IPv6 is off, so a name with no stub zone fails instead of leaking to
the root servers. ``unbound-control`` runs over a unix socket: :meth:`Unbound.flush_zone`,
:meth:`Unbound.flush_infra`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.name
import dns.rrset

from mailshield.lab.endpoint import Endpoint, ensure_free, loopback
from mailshield.lab.process import Daemon, Service, binary, make_workdir, run_tool, socket_path
from mailshield.lab.readiness import all_of, dns_answers

__all__ = ["LAB_DEFAULT_ZONES", "StubZone", "Unbound"]

# Every IPv4 address outside 127.0.0.0/8, as the fewest CIDR blocks.
_NOT_LOOPBACK = (
    "0.0.0.0/2",
    "64.0.0.0/3",
    "96.0.0.0/4",
    "112.0.0.0/5",
    "120.0.0.0/6",
    "124.0.0.0/7",
    "126.0.0.0/8",
    "128.0.0.0/1",
)
# Unbound answers these itself (RFC 6761 §6.2, RFC 6303) unless told not to; lab names live there.
LAB_DEFAULT_ZONES = ("test.", "127.in-addr.arpa.")


@dataclass(frozen=True)
class StubZone:
    """Send queries for ``name`` and below to ``servers`` (authoritative, any port)."""

    name: str
    servers: tuple[Endpoint, ...]

    @property
    def origin(self) -> dns.name.Name:
        return dns.name.from_text(self.name)


class Unbound(Service):
    """An ``unbound`` validating resolver listening on ``listen`` (a free port on 127.0.0.1)."""

    def __init__(
        self,
        *,
        stubs: Iterable[StubZone] = (),
        trust_anchors: Iterable[dns.rrset.RRset] = (),
        listen: Sequence[Endpoint] = (),
        fallback: Endpoint | None = None,
        nodefault: Iterable[str] = LAB_DEFAULT_ZONES,
        workdir: Path | None = None,
    ) -> None:
        self.stubs = tuple(stubs)
        self.fallback = fallback
        self.trust_anchors = tuple(trust_anchors)
        self.listen = tuple(listen) or (loopback("127.0.0.1"),)
        self.nodefault = _nodefault_zones(self.stubs, nodefault)
        self.workdir = make_workdir(workdir, "unbound")
        self.config_path = self.workdir / "unbound.conf"
        self._socket = socket_path(self.workdir, "unbound.ctl")
        self._daemon: Daemon | None = None

    @property
    def address(self) -> Endpoint:
        """The first listen address: the resolver to give the checker."""
        return self.listen[0]

    @property
    def pid(self) -> int | None:
        return None if self._daemon is None else self._daemon.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / "unbound.log"

    def start(self) -> None:
        """Write and check the configuration, start unbound, wait until every address answers."""
        for endpoint in self.listen:
            ensure_free(endpoint)
        self._socket.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render_config())
        run_tool([binary("unbound-checkconf"), str(self.config_path)])
        # Unbound answers version.server (class CH) itself: no upstream is needed to be ready.
        ready = all_of(
            *(dns_answers(e, "version.server", "TXT", rdclass="CH") for e in self.listen)
        )
        self._daemon = Daemon(
            "unbound",
            [binary("unbound"), "-d", "-c", str(self.config_path)],
            workdir=self.workdir,
            ready=ready,
        )
        self._daemon.start()

    def stop(self) -> None:
        if self._daemon is not None:
            self._daemon.stop()

    def control(self, *args: str) -> str:
        """Run ``unbound-control`` over the unix socket; :class:`ToolError` on failure."""
        return run_tool([binary("unbound-control"), "-c", str(self.config_path), *args])

    def flush_zone(self, name: str) -> None:
        """Forget every cached answer at or below ``name`` (after changing lab DNS data)."""
        self.control("flush_zone", name)

    def flush_infra(self) -> None:
        """Forget what unbound learned about server reachability and timing."""
        self.control("flush_infra", "all")

    def render_config(self) -> str:
        """``unbound.conf`` (Unbound 1.17); docs/lab.md says why each setting is there."""
        return (
            self._server_clause()
            + _remote_control(self._socket)
            + "".join(_stub_clause(stub) for stub in self.stubs)
            + (_fallback_clause(self.fallback) if self.fallback else "")
        )

    def _server_clause(self) -> str:
        lines = [
            *(f"interface: {endpoint.at()}" for endpoint in self.listen),
            "do-ip6: no",
            'username: ""',
            'chroot: ""',
            f'directory: "{self.workdir}"',
            'pidfile: ""',
            "use-syslog: no",
            'logfile: ""',
            "log-time-ascii: yes",
            "verbosity: 1",
            "val-log-level: 2",
            "num-threads: 1",
            "so-reuseport: no",
            "access-control: 127.0.0.0/8 allow",
            "do-not-query-localhost: no",
            *(f"do-not-query-address: {block}" for block in _NOT_LOOPBACK),
            "qname-minimisation: no",
            'module-config: "validator iterator"',
            *(f'local-zone: "{zone}" nodefault' for zone in self.nodefault),
            *(f'trust-anchor: "{line}"' for line in _anchor_lines(self.trust_anchors)),
        ]
        return "server:\n" + "".join(f"    {line}\n" for line in lines)


def _nodefault_zones(stubs: Sequence[StubZone], extra: Iterable[str]) -> tuple[str, ...]:
    """Every stub zone and its ancestors below the root, plus ``extra``: no built-in local zone
    may shadow a name the lab serves."""
    names = {dns.name.from_text(name) for name in extra}
    for stub in stubs:
        name = stub.origin
        while name != dns.name.root:
            names.add(name)
            name = name.parent()
    return tuple(sorted(name.to_text() for name in names))


def _anchor_lines(anchors: Iterable[dns.rrset.RRset]) -> list[str]:
    return [line for rrset in anchors for line in rrset.to_text().splitlines()]


def _remote_control(socket: Path) -> str:
    return (
        "remote-control:\n"
        "    control-enable: yes\n"
        f'    control-interface: "{socket}"\n'
        "    control-use-cert: no\n"
    )


def _fallback_clause(server: Endpoint) -> str:
    # A forward zone, not a stub: a stub for "." makes unbound prime the root (". NS"), which the
    # lab's DNS server does not serve. Deeper stub zones still win over this forward zone.
    return f'forward-zone:\n    name: "."\n    forward-addr: {server.at()}\n'


def _stub_clause(stub: StubZone) -> str:
    servers = "".join(f"    stub-addr: {server.at()}\n" for server in stub.servers)
    return f'stub-zone:\n    name: "{stub.origin}"\n{servers}'
