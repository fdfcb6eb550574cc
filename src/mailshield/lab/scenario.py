"""The lab's scenario model: a declarative description of a small internet, loaded from TOML.

A scenario lists domains with their zone records (zone-file lines relative to the domain), the MX
hosts and the MTA-STS policy host of each domain with the behaviour they should show, per-name DNS
faults, and lab-wide settings. A/AAAA records for MX and ``mta-sts.`` hosts are derived from the
host definitions, and so is an MX record for each MX host that has a ``preference``.

Loading is pure: text in, a validated :class:`Scenario` out, or a :class:`ScenarioError` naming
the domain and the key at fault. Record syntax is checked when the zones are built
(:func:`mailshield.lab.zones.build_zones`), which raises the same error type.

File layout (every key but ``domains`` is optional)::

    name = "demo"
    description = "what the scenario shows"

    [lab]
    dns = "127.53.0.1:53"            # where the authoritative server listens
    resolver = "127.53.0.2"          # Unbound (same port as dns), only when a zone is signed
    knot = "127.53.0.3"              # Knot (a free port), only when a zone is signed
    latency_ms = 0                   # added to every DNS answer
    network = "127.53.1.0/24"        # pool for hosts given no address
    smtp_port = 25
    https_port = 443
    [lab.unprivileged]               # used instead when not running as root
    dns_port = 5300
    smtp_port = 2525
    https_port = 8443

    [domains."good.test"]
    description = "what this domain shows"
    records = ['@ TXT "v=spf1 mx -all"', '_mta-sts TXT "v=STSv1; id=1"']
    mx = [{ name = "mx1", behaviour = "valid", preference = 10, addresses = ["127.53.1.10"] }]
    mta_sts = { behaviour = "valid", mode = "enforce", max_age = 86400 }  # or policy = "..."
    faults = [{ name = "_smtp._tls", type = "TXT", action = "timeout", latency_ms = 0 }]
    signed = false
    bogus = false
"""

from __future__ import annotations

import enum
import ipaddress
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.scenario_tables import ScenarioError, Table

__all__ = [
    "DnsFault",
    "Domain",
    "FaultAction",
    "LabSettings",
    "MxHost",
    "PolicyHost",
    "Ports",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "render_policy",
    "scenario_from_dict",
]

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


class FaultAction(enum.StrEnum):
    """What the lab DNS server does with a query that matches a fault."""

    ANSWER = "answer"  # answer normally (use with latency_ms)
    TIMEOUT = "timeout"  # never answer
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TRUNCATE = "truncate"  # over UDP: empty answer with TC set, forcing TCP; TCP answers normally
    OVERSIZE = "oversize"  # pad TXT answers with filler TXT records up to `size` bytes


@dataclass(frozen=True, slots=True)
class DnsFault:
    """A fault injected for queries of ``name`` (and of ``rdtype`` only, when given)."""

    name: str  # absolute, lower-case, no trailing dot
    rdtype: str | None = None  # "TXT"; None: every type
    action: FaultAction = FaultAction.ANSWER
    latency_ms: float = 0.0
    size: int = 0  # OVERSIZE: bytes of filler TXT data


@dataclass(frozen=True, slots=True)
class MxHost:
    """An SMTP server of the lab; ``preference`` set means the domain gets an MX record for it."""

    name: str
    addresses: tuple[str, ...]
    behaviour: MxBehaviour = MxBehaviour.VALID
    preference: int | None = 10


@dataclass(frozen=True, slots=True)
class PolicyHost:
    """The HTTPS host ``mta-sts.<domain>`` serving ``policy`` at /.well-known/mta-sts.txt."""

    name: str
    addresses: tuple[str, ...]
    behaviour: PolicyBehaviour = PolicyBehaviour.VALID
    policy: str = ""


@dataclass(frozen=True, slots=True)
class Domain:
    """One zone of the lab with the hosts and faults that belong to it."""

    name: str
    records: tuple[str, ...] = ()
    mx: tuple[MxHost, ...] = ()
    policy_host: PolicyHost | None = None
    faults: tuple[DnsFault, ...] = ()
    signed: bool = False  # served by Knot with DNSSEC and validated by Unbound
    bogus: bool = False  # signed, but validation must fail
    description: str = ""


@dataclass(frozen=True, slots=True)
class Ports:
    """The ports the lab's services listen on."""

    dns: int
    smtp: int
    https: int


@dataclass(frozen=True, slots=True)
class LabSettings:
    """Lab-wide settings: listen addresses, ports and the global DNS latency."""

    dns_host: str = "127.53.0.1"
    resolver_host: str = "127.53.0.2"
    knot_host: str = "127.53.0.3"
    ports: Ports = field(default_factory=lambda: Ports(53, 25, 443))
    unprivileged_ports: Ports = field(default_factory=lambda: Ports(5300, 2525, 8443))
    latency_ms: float = 0.0
    network: str = "127.53.1.0/24"

    def ports_for(self, *, privileged: bool) -> Ports:
        """The ports to use: the configured ones as root, the unprivileged ones otherwise."""
        return self.ports if privileged else self.unprivileged_ports


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated lab scenario."""

    name: str
    domains: tuple[Domain, ...]
    lab: LabSettings = field(default_factory=LabSettings)
    description: str = ""

    def domain(self, name: str) -> Domain:
        """The domain called ``name`` (case-insensitive, trailing dot optional)."""
        wanted = _normalise(name)
        for domain in self.domains:
            if domain.name == wanted:
                return domain
        raise KeyError(name)

    @property
    def mx_hosts(self) -> tuple[MxHost, ...]:
        return tuple(host for domain in self.domains for host in domain.mx)

    @property
    def policy_hosts(self) -> tuple[PolicyHost, ...]:
        return tuple(d.policy_host for d in self.domains if d.policy_host is not None)

    @property
    def faults(self) -> tuple[DnsFault, ...]:
        return tuple(fault for domain in self.domains for fault in domain.faults)

    @property
    def signed_domains(self) -> tuple[Domain, ...]:
        return tuple(d for d in self.domains if d.signed)

    def with_ports(
        self,
        ports: Ports,
        *,
        dns_host: str | None = None,
        resolver_host: str | None = None,
        knot_host: str | None = None,
    ) -> Scenario:
        """The same scenario listening on ``ports`` (e.g. all 0 for ephemeral ports in tests)
        and, when given, other DNS addresses."""
        lab = replace(
            self.lab,
            ports=ports,
            unprivileged_ports=ports,
            dns_host=dns_host or self.lab.dns_host,
            resolver_host=resolver_host or self.lab.resolver_host,
            knot_host=knot_host or self.lab.knot_host,
        )
        return replace(self, lab=lab)


def load_scenario(path: Path) -> Scenario:
    """Read and validate the scenario file at ``path`` (its stem is the default name)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from exc
    return parse_scenario(text, default_name=path.stem)


def parse_scenario(text: str, *, default_name: str = "scenario") -> Scenario:
    """Validate TOML ``text`` as a scenario."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {default_name}: not valid TOML: {exc}") from exc
    return scenario_from_dict(data, default_name=default_name)


def scenario_from_dict(data: Mapping[str, Any], *, default_name: str = "scenario") -> Scenario:
    """Validate an already parsed scenario (e.g. from YAML or built in code)."""
    top = Table(data, "scenario")
    name = top.string("name", default_name)
    description = top.string("description", "")
    lab = _lab_settings(top.table("lab", where="lab"))
    raw_domains = top.table("domains", required=True)
    top.finish()
    if not raw_domains.keys:
        raise ScenarioError("scenario: key 'domains': at least one domain is needed")
    pool = _AddressPool(lab)
    domains = tuple(
        _domain(raw_domains.table(key, required=True, where=f"domain '{key}'"), key, pool)
        for key in raw_domains.keys
    )
    _check_unique_domains(domains)
    _check_shared_addresses(domains)
    return Scenario(name=name, domains=domains, lab=lab, description=description)


# -- sections ---------------------------------------------------------------------------------


def _lab_settings(table: Table) -> LabSettings:
    dns_host, dns_port = _host_port(table, "dns", "127.53.0.1:53")
    ports = Ports(dns_port, table.port("smtp_port", 25), table.port("https_port", 443))
    unpriv = table.table("unprivileged", where="lab.unprivileged")
    unprivileged = Ports(
        unpriv.port("dns_port", 5300),
        unpriv.port("smtp_port", 2525),
        unpriv.port("https_port", 8443),
    )
    unpriv.finish()
    resolver_host = _loopback_ip(table, "resolver", "127.53.0.2")
    knot_host = _loopback_ip(table, "knot", "127.53.0.3")
    latency = table.number("latency_ms", 0.0)
    network = table.string("network", "127.53.1.0/24")
    try:
        if not ipaddress.IPv4Network(network).subnet_of(_LOOPBACK):
            raise ValueError("must be inside 127.0.0.0/8")
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{table.where}: key 'network': {network!r}: {exc}") from exc
    table.finish()
    return LabSettings(dns_host, resolver_host, knot_host, ports, unprivileged, latency, network)


def _domain(table: Table, key: str, pool: _AddressPool) -> Domain:
    name = _normalise(key)
    _check_name(name, table.where, "name")
    records = table.strings("records")
    mx = tuple(_mx_host(item, name, pool, index) for index, item in enumerate(table.tables("mx")))
    policy_table = table.table("mta_sts")
    policy_host = None
    if policy_table.keys or "mta_sts" in table.data:
        policy_host = _policy_host(policy_table, name, mx, pool)
    faults = tuple(_fault(item, name) for item in table.tables("faults"))
    signed = table.boolean("signed", False)
    bogus = table.boolean("bogus", False)
    if bogus and not signed:
        raise ScenarioError(f"{table.where}: key 'bogus': a bogus zone must also be signed = true")
    description = table.string("description", "")
    table.finish()
    return Domain(name, records, mx, policy_host, faults, signed, bogus, description)


def _mx_host(table: Table, domain: str, pool: _AddressPool, index: int) -> MxHost:
    name = _relative_name(table.string("name", required=True), domain)
    _check_name(name, table.where, "name")
    behaviour = table.choice("behaviour", MxBehaviour, MxBehaviour.VALID)
    preference: int | None = table.integer("preference", 10 * (index + 1))
    if not table.boolean("mx_record", True):
        preference = None
    elif preference is not None and not 0 <= preference <= 65535:
        raise ScenarioError(f"{table.where}: key 'preference': must be between 0 and 65535")
    addresses = _addresses(table, pool)
    table.finish()
    return MxHost(name, addresses, behaviour, preference)


def _policy_host(
    table: Table, domain: str, mx: tuple[MxHost, ...], pool: _AddressPool
) -> PolicyHost:
    behaviour = table.choice("behaviour", PolicyBehaviour, PolicyBehaviour.VALID)
    mode = table.string("mode", "enforce")
    max_age = table.integer("max_age", 604800) or 0
    patterns = table.strings("mx") or tuple(host.name for host in mx)
    policy = table.string("policy", None)
    if policy is None:
        policy = render_policy(mode, patterns, max_age)
    addresses = _addresses(table, pool)
    table.finish()
    return PolicyHost(f"mta-sts.{domain}", addresses, behaviour, policy)


def _fault(table: Table, domain: str) -> DnsFault:
    name = _relative_name(table.string("name", "@"), domain)
    _check_name(name, table.where, "name")
    rdtype = table.string("type", None)
    if rdtype is not None:
        rdtype = rdtype.upper()
        if not rdtype.isalnum():
            raise ScenarioError(f"{table.where}: key 'type': {rdtype!r} is not a record type")
    action = table.choice("action", FaultAction, FaultAction.ANSWER)
    latency = table.number("latency_ms", 0.0)
    size = table.integer("size", 4000 if action is FaultAction.OVERSIZE else 0) or 0
    if size < 0 or size > 60000:
        raise ScenarioError(f"{table.where}: key 'size': must be between 0 and 60000 bytes")
    table.finish()
    return DnsFault(name, rdtype, action, latency, size)


def render_policy(mode: str, mx_patterns: tuple[str, ...], max_age: int) -> str:
    """An MTA-STS policy text (RFC 8461 §3.2) with LF line endings."""
    lines = ["version: STSv1", f"mode: {mode}"]
    lines += [f"mx: {pattern}" for pattern in mx_patterns]
    lines.append(f"max_age: {max_age}")
    return "\n".join(lines) + "\n"


# -- names and addresses ----------------------------------------------------------------------


def _normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _relative_name(name: str, domain: str) -> str:
    """Zone-file convention: ``@`` is the domain, a trailing dot is absolute, else relative."""
    name = name.strip()
    if name == "@":
        return domain
    if name.endswith("."):
        return _normalise(name)
    return f"{_normalise(name)}.{domain}"


def _check_name(name: str, where: str, key: str) -> None:
    labels = name.split(".")
    if not name or len(name) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        raise ScenarioError(f"{where}: key '{key}': {name!r} is not a valid domain name")
    if any(char.isspace() for char in name):
        raise ScenarioError(f"{where}: key '{key}': {name!r} contains white space")


def _host_port(table: Table, key: str, default: str) -> tuple[str, int]:
    text = table.string(key, default)
    host, sep, port = text.rpartition(":")
    try:
        if not sep or not ipaddress.ip_address(host).is_loopback:
            raise ValueError
        number = int(port)
        if not 0 <= number <= 65535:
            raise ValueError
    except ValueError:
        message = f"{text!r} must be a loopback IPv4 address and a port, like 127.53.0.1:53"
        raise ScenarioError(f"{table.where}: key '{key}': {message}") from None
    return host, number


def _loopback_ip(table: Table, key: str, default: str) -> str:
    text: str = table.string(key, default)
    try:
        if ipaddress.IPv4Address(text) in _LOOPBACK:
            return text
    except ValueError:
        pass
    raise ScenarioError(f"{table.where}: key '{key}': {text!r} must be an address in 127.0.0.0/8")


def _addresses(table: Table, pool: _AddressPool) -> tuple[str, ...]:
    given = table.strings("addresses")
    for address in given:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise ScenarioError(
                f"{table.where}: key 'addresses': {address!r} is not an IP address"
            ) from None
        if not parsed.is_loopback:
            raise ScenarioError(
                f"{table.where}: key 'addresses': {address} is not a loopback address "
                "(the lab lives in 127.0.0.0/8 and ::1)"
            )
    return given or (pool.take(table.where),)


class _AddressPool:
    """Hands out addresses from the lab network, in order, for hosts that name none."""

    def __init__(self, lab: LabSettings) -> None:
        network = ipaddress.IPv4Network(lab.network)
        self._hosts: Iterator[Any] = iter(network.hosts() if network.num_addresses > 2 else network)
        self._reserved = {lab.dns_host, lab.resolver_host, lab.knot_host}

    def take(self, where: str) -> str:
        for address in self._hosts:
            if str(address) not in self._reserved:
                return str(address)
        raise ScenarioError(f"{where}: key 'addresses': the lab network has no free address left")


def _check_unique_domains(domains: tuple[Domain, ...]) -> None:
    seen: set[str] = set()
    for domain in domains:
        if domain.name in seen:
            raise ScenarioError(f"domain '{domain.name}': defined twice")
        seen.add(domain.name)


def _check_shared_addresses(domains: tuple[Domain, ...]) -> None:
    """Hosts may share an address (one listener, several names) only with the same behaviour."""
    owners: dict[tuple[str, str], tuple[str, str]] = {}
    for domain in domains:
        hosts: list[tuple[str, str, tuple[str, ...], str]] = [
            ("smtp", h.name, h.addresses, h.behaviour) for h in domain.mx
        ]
        if domain.policy_host is not None:
            p = domain.policy_host
            hosts.append(("https", p.name, p.addresses, p.behaviour))
        for service, name, addresses, behaviour in hosts:
            for address in addresses:
                other = owners.setdefault((service, address), (name, behaviour))
                if other[1] != behaviour:
                    raise ScenarioError(
                        f"domain '{domain.name}': host {name}: address {address} is already "
                        f"used by {other[0]} with behaviour {other[1]!r}; hosts sharing an "
                        "address must share the behaviour"
                    )
