"""A lab world for tests: a scenario started on free ports, and what a checker needs to use it.

Typical use in a test module::

    @pytest.fixture
    async def world(tmp_path: Path) -> AsyncIterator[Lab]:
        async with lab_world("demo", tmp_path) as lab:
            yield lab

    async def test_something(world: Lab) -> None:
        settings = load_settings(**checker_overrides(world))
        ...

The DNS server gets an ephemeral port; all SMTP hosts share one free port and all HTTPS hosts
another, so a checker's single ``smtp_port`` setting reaches every MX. Scenarios with signed zones
need Knot and Unbound (skipped, or failed in CI, when they are missing).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import dns.asyncresolver
import dns.flags
import dns.nameserver
from tests.support.lab import require_binary

from mailshield.lab.endpoint import free_port
from mailshield.lab.runner import Lab, LabThread
from mailshield.lab.scenario import Ports, Scenario, parse_scenario
from mailshield.lab.scenarios import find_scenario

# Addresses for the lab's own DNS servers in tests (hosts keep the scenario's addresses).
TEST_DNS_HOST = "127.0.1.53"
TEST_RESOLVER_HOST = "127.0.1.54"
TEST_KNOT_HOST = "127.0.1.55"


def prepare_scenario(scenario: Scenario | str, *, ports: Ports | None = None) -> Scenario:
    """``scenario`` (a Scenario, TOML text, a bundled name or a path) moved onto test ports."""
    if isinstance(scenario, str):
        scenario = parse_scenario(scenario) if "[" in scenario else find_scenario(scenario)
    if ports is None:
        first = next(iter((*scenario.mx_hosts, *scenario.policy_hosts)), None)
        host = first.addresses[0] if first is not None else "127.0.0.1"
        ports = Ports(0, free_port(_ipv4(host)), free_port(_ipv4(host)))
    return scenario.with_ports(
        ports,
        dns_host=TEST_DNS_HOST,
        resolver_host=TEST_RESOLVER_HOST,
        knot_host=TEST_KNOT_HOST,
    )


def _ipv4(address: str) -> str:
    return address if "." in address else "127.0.0.1"


def _require_daemons(scenario: Scenario) -> None:
    if scenario.signed_domains:
        require_binary("knotd")
        require_binary("unbound")


@contextlib.asynccontextmanager
async def lab_world(
    scenario: Scenario | str, workdir: Path, *, ports: Ports | None = None, **options: Any
) -> AsyncIterator[Lab]:
    """The started lab for ``scenario`` (see :func:`prepare_scenario`), stopped on exit."""
    prepared = prepare_scenario(scenario, ports=ports)
    _require_daemons(prepared)
    async with Lab(prepared, workdir, **options) as lab:
        yield lab


@contextlib.contextmanager
def lab_world_thread(
    scenario: Scenario | str, workdir: Path, *, ports: Ports | None = None, **options: Any
) -> Iterator[Lab]:
    """The same lab run in a background thread, for synchronous tests."""
    prepared = prepare_scenario(scenario, ports=ports)
    _require_daemons(prepared)
    with LabThread(prepared, workdir, **options) as lab:
        yield lab


def lab_resolver(lab: Lab, *, dnssec: bool = False) -> dns.asyncresolver.Resolver:
    """A dnspython resolver that asks only the lab (with DO set when ``dnssec``)."""
    resolver = dns.asyncresolver.Resolver(configure=False)
    host, port = lab.resolver
    resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    resolver.lifetime = 5.0
    if dnssec:
        resolver.use_edns(0, dns.flags.DO, 1232)
    return resolver


def checker_overrides(lab: Lab) -> dict[str, Any]:
    """Settings overrides pointing MailShield's checker at ``lab``."""
    return {
        "resolvers": lab.resolvers,
        "ca_bundle": lab.ca_path,
        "allow_private": True,
        "smtp_port": lab.ports.smtp,
    }
