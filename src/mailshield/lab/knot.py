"""Knot DNS as the lab's signing authoritative server, with RFC 2136 updates under TSIG.

``Knot(zones, listen=...)`` writes ``knot.conf`` and one zone file per zone into a fresh workdir,
runs ``knotd`` in the foreground and returns from ``start()`` once every zone answers its SOA
(with an RRSIG for signed zones). Zones with ``signed=True`` are signed automatically with
ECDSA P-256 (algorithm 13, RFC 6605) and no key rollovers; :meth:`Knot.ds` gives their DS.

Dynamic updates (RFC 2136) are allowed per zone: with ``updates=UpdateAccess.TSIG`` (the default)
only messages signed with :attr:`Knot.tsig_key` (RFC 8945) are accepted, others get NOTAUTH.
:meth:`Knot.set_rrset` edits a zone at run time through a ``knotc`` transaction.
"""

from __future__ import annotations

import base64
import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.zone

from mailshield.lab.endpoint import Endpoint, ensure_free, loopback
from mailshield.lab.process import (
    Daemon,
    Service,
    ToolError,
    binary,
    make_workdir,
    run_tool,
    socket_path,
)
from mailshield.lab.readiness import Probe, all_of, dns_answers

__all__ = ["Knot", "KnotZone", "TsigKey", "UpdateAccess", "render_config"]


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key (RFC 8945): name, base64 secret and HMAC algorithm, shared with update clients."""

    name: str
    secret: str
    algorithm: str = "hmac-sha256"

    @classmethod
    def generate(cls, name: str = "lab-update.") -> TsigKey:
        """A fresh random 256-bit HMAC-SHA256 key."""
        return cls(name, base64.b64encode(secrets.token_bytes(32)).decode("ascii"))

    def dnspython_key(self) -> dns.tsig.Key:
        """The key as dnspython wants it, e.g. ``dns.update.UpdateMessage(zone, keyring=...)``."""
        return dns.tsig.Key(self.name, self.secret, self.algorithm)


class UpdateAccess(enum.StrEnum):
    """Who may send RFC 2136 updates to a zone (always from 127.0.0.0/8)."""

    NONE = "none"  # updates refused
    TSIG = "tsig"  # only updates signed with the server's TSIG key
    OPEN = "open"  # any update from loopback, unsigned


@dataclass(frozen=True)
class KnotZone:
    """A zone for Knot: its name, zone-file text (names relative to the zone allowed), options."""

    name: str
    text: str
    signed: bool = False
    updates: UpdateAccess = UpdateAccess.TSIG

    @property
    def origin(self) -> dns.name.Name:
        return dns.name.from_text(self.name)

    def parse(self) -> dns.zone.Zone:
        """The zone text parsed (it must have SOA and NS at the apex); ``ValueError`` if invalid."""
        try:
            return dns.zone.from_text(self.text, origin=self.origin, relativize=False)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ValueError(f"zone {self.origin}: {exc}") from exc


class Knot(Service):
    """A ``knotd`` serving ``zones`` on ``listen`` (a free port on 127.0.0.1 by default)."""

    def __init__(
        self,
        zones: Iterable[KnotZone],
        *,
        listen: Endpoint | None = None,
        workdir: Path | None = None,
        tsig_key: TsigKey | None = None,
    ) -> None:
        self.zones = {zone.origin: zone for zone in zones}
        if not self.zones:
            raise ValueError("Knot needs at least one zone")
        self.listen = listen or loopback("127.0.0.1")
        self.workdir = make_workdir(workdir, "knot")
        self.tsig_key = tsig_key or TsigKey.generate()
        self.config_path = self.workdir / "knot.conf"
        self._socket = socket_path(self.workdir / "run", "knot.sock")
        self._daemon: Daemon | None = None

    @property
    def pid(self) -> int | None:
        return None if self._daemon is None else self._daemon.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / "knotd.log"

    def start(self) -> None:
        """Write configuration and zone files, check them, start knotd, wait until all zones
        answer (signed ones with an RRSIG)."""
        ensure_free(self.listen)
        self._write_files()
        run_tool([binary("knotc"), "-c", str(self.config_path), "conf-check"])
        ready = all_of(*(self._serves(zone) for zone in self.zones.values()))
        self._daemon = Daemon(
            "knotd",
            [binary("knotd"), "-c", str(self.config_path)],
            workdir=self.workdir,
            ready=ready,
        )
        self._daemon.start()

    def _serves(self, zone: KnotZone) -> Probe:
        return dns_answers(self.listen, str(zone.origin), "SOA", signed=zone.signed)

    def stop(self) -> None:
        if self._daemon is not None:
            self._daemon.stop()

    def _write_files(self) -> None:
        zones_dir = self.workdir / "zones"
        for folder in (zones_dir, self.workdir / "db", self.workdir / "run", self._socket.parent):
            folder.mkdir(parents=True, exist_ok=True)
        for origin, zone in self.zones.items():
            (zones_dir / f"{origin}zone").write_text(zone.parse().to_text(relativize=False))
        self.config_path.write_text(self._config(zones_dir))

    def _config(self, zones_dir: Path) -> str:
        return render_config(
            listen=self.listen,
            workdir=self.workdir,
            zones_dir=zones_dir,
            control_socket=self._socket,
            zones=list(self.zones.values()),
            tsig_key=self.tsig_key,
        )

    def knotc(self, *args: str) -> str:
        """Run ``knotc`` against this server's control socket; :class:`ToolError` on failure."""
        return run_tool([binary("knotc"), "-s", str(self._socket), *args])

    def ds(self, zone: str) -> dns.rrset.RRset:
        """The DS RRset (digest types 2 and 4) for signed ``zone``'s KSK, from ``keymgr ... ds``."""
        origin = dns.name.from_text(zone)
        output = run_tool([binary("keymgr"), "-c", str(self.config_path), str(origin), "ds"])
        # Each line reads "<owner> DS <key tag> <algorithm> <digest type> <digest>".
        rdatas = [line.split(None, 2)[2] for line in output.splitlines() if " DS " in line]
        if not rdatas:
            raise ToolError(f"keymgr printed no DS for {origin}: {output.strip()}")
        return dns.rrset.from_text_list(origin, 3600, dns.rdataclass.IN, dns.rdatatype.DS, rdatas)

    def set_rrset(
        self, zone: str, owner: str, rdtype: str, values: Sequence[str], ttl: int = 300
    ) -> None:
        """Replace the ``owner``/``rdtype`` RRset of ``zone`` by ``values`` (presentation format;
        empty removes it) in one knotc transaction. Signed zones are re-signed on commit."""
        self.knotc("zone-begin", zone)
        try:
            self._unset_if_present(zone, owner, rdtype)
            for value in values:
                self.knotc("zone-set", zone, owner, str(ttl), rdtype, value)
            self.knotc("zone-commit", zone)
        except ToolError:
            self.knotc("zone-abort", zone)
            raise

    def _unset_if_present(self, zone: str, owner: str, rdtype: str) -> None:
        try:
            self.knotc("zone-unset", zone, owner, rdtype)
        except ToolError as exc:
            # knotc says "no such node" (no name) or "not exists" (name without this type).
            if not any(marker in str(exc) for marker in ("no such node", "not exists")):
                raise


def render_config(
    *,
    listen: Endpoint,
    workdir: Path,
    zones_dir: Path,
    control_socket: Path,
    zones: Sequence[KnotZone],
    tsig_key: TsigKey,
) -> str:
    """``knot.conf`` (Knot 3.2 syntax) for ``zones``; docs/lab.md says why each setting is there."""
    head = f"""\
server:
    rundir: "{workdir / "run"}"
    listen: {listen.at()}
    udp-workers: 2
    tcp-workers: 2
    background-workers: 2
log:
  - target: stderr
    any: info
database:
    storage: "{workdir / "db"}"
control:
    listen: "{control_socket}"
key:
  - id: {tsig_key.name}
    algorithm: {tsig_key.algorithm}
    secret: {tsig_key.secret}
acl:
  - id: update_tsig
    address: 127.0.0.0/8
    key: {tsig_key.name}
    action: update
  - id: update_open
    address: 127.0.0.0/8
    action: update
policy:
  - id: lab
    algorithm: ecdsap256sha256
    nsec3: off
    ksk-lifetime: 0
    zsk-lifetime: 0
template:
  - id: default
    storage: "{zones_dir}"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
    semantic-checks: off
zone:
"""
    return head + "".join(_zone_entry(zone) for zone in zones)


def _zone_entry(zone: KnotZone) -> str:
    entry = f"  - domain: {zone.origin}\n    file: {zone.origin}zone\n"
    if zone.updates is not UpdateAccess.NONE:
        entry += f"    acl: update_{zone.updates}\n"
    if zone.signed:
        entry += "    dnssec-signing: on\n    dnssec-policy: lab\n"
    return entry
