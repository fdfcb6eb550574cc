"""The real checker against a running lab scenario, and what its tests assert with.

Each test module names a scenario file under ``scenarios/`` and gets a module-wide lab (run in a
background thread, so every test keeps its own event loop) and a :class:`Reports` cache: each
domain is checked once per module through :func:`mailshield.interfaces.assembly.build_checker`
with the lab resolver, the lab CA, ``allow_private`` and the lab SMTP port, exactly as
``mailshield check`` builds it.

Policy hosts listen on port 443 on the scenario's own 127.13.x addresses, because a sender (and
the checker) fetches ``https://mta-sts.<domain>/`` on 443 only (RFC 8461 §3.3); binding it needs
root, so without root these tests skip (or fail under ``MAILSHIELD_REQUIRE_LAB=1``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.lab_world import lab_world_thread

from mailshield.core.model import Finding, Report, Status
from mailshield.interfaces.assembly import build_checker
from mailshield.lab.endpoint import free_port
from mailshield.lab.runner import Lab
from mailshield.lab.scenario import Ports, Scenario, load_scenario
from mailshield.services.checker import Checker
from mailshield.services.settings import Settings, load_settings

SCENARIOS = Path(__file__).parent / "scenarios"
HTTPS_PORT = 443  # RFC 8461 §3.3: the policy is fetched from port 443, nowhere else
DNS_TIMEOUT = 2.0  # seconds per DNS attempt: ample for the lab on a busy machine
PROBE_TIMEOUT = 5.0  # seconds per SMTP/HTTPS probe: tarpits and slow hosts outlast it
TARPIT_DELAY = 120.0  # a tarpit greets long after any probe gave up


def scenario(name: str) -> Scenario:
    """The scenario ``scenarios/<name>.toml``."""
    return load_scenario(SCENARIOS / f"{name}.toml")


def require_port_443() -> None:
    """Skip (or fail in CI) when policy hosts cannot listen on port 443."""
    if os.geteuid() == 0:
        return
    reason = "policy hosts must listen on port 443 (RFC 8461 §3.3), which needs root"
    if os.environ.get("MAILSHIELD_REQUIRE_LAB") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def running_lab(world: Scenario, workdir: Path, **options: Any) -> Iterator[Lab]:
    """``world`` started with DNS on a free port, every MX on one free port, HTTPS on 443."""
    require_port_443()
    first = world.mx_hosts[0].addresses[0] if world.mx_hosts else "127.0.0.1"
    ports = Ports(0, free_port(first), HTTPS_PORT)
    options.setdefault("tarpit_delay", TARPIT_DELAY)
    with lab_world_thread(world, workdir, ports=ports, **options) as lab:
        yield lab


def lab_settings(lab: Lab, **overrides: Any) -> Settings:
    """Settings as ``mailshield check --resolver … --ca-bundle … --allow-private
    --smtp-port …`` gives them for ``lab``, with short timeouts."""
    values: dict[str, Any] = {
        "resolvers": lab.resolvers,
        "ca_bundle": lab.ca_path,
        "allow_private": True,
        "smtp_port": lab.ports.smtp,
        "dns_timeout": DNS_TIMEOUT,
        "check_timeout": PROBE_TIMEOUT,
        # Unbound validates; the plain lab server does not, but the scenarios under test are
        # unsigned there, so "insecure" is the truth either way (and not "could not test").
        "dnssec_validation": "yes",
    }
    return load_settings(**{**values, **overrides})


class Reports:
    """Each domain's report, checked once and remembered for the module's tests."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self._done: dict[str, Report] = {}

    async def __call__(self, domain: str) -> Report:
        if domain not in self._done:
            self._done[domain] = await self.checker.check(domain)
        return self._done[domain]


def make_reports(lab: Lab, *, dkim_selectors: Sequence[str] = (), **overrides: Any) -> Reports:
    return Reports(build_checker(lab_settings(lab, **overrides), dkim_selectors=dkim_selectors))


# -- expectations ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expect:
    """``domain``'s report must hold a finding ``code`` with ``status`` (about ``subject``)."""

    domain: str
    code: str
    status: Status
    subject: str | None = None

    def param(self) -> Any:
        return pytest.param(self, id=f"{self.code}@{self.domain.removesuffix('.test')}")


def params(expectations: Iterable[Expect]) -> list[Any]:
    return [e.param() for e in expectations]


def with_code(report: Report, code: str) -> list[Finding]:
    """Every finding of ``report`` with ``code``."""
    return [f for f in report.findings() if f.code == code]


def describe(report: Report) -> str:
    """Every finding as ``check code status subject`` lines, for assertion messages."""
    return "\n".join(
        f"  {r.check:9} {f.status.value:14} {f.code} [{f.subject}]"
        for r in report.results
        for f in r.findings
    )


# A deliberate state with nothing to repair: mode none is how MTA-STS is withdrawn (§8.3).
NO_FIX_BY_DESIGN = frozenset({"mta_sts.policy.mode_none"})


def assert_expected(report: Report, expect: Expect) -> Finding:
    """The finding ``expect`` describes (its status and, if given, its subject checked); a
    warning or failure must say how to fix it, could-not-test must not pretend to."""
    found = with_code(report, expect.code)
    assert found, f"{expect.code} missing from {report.domain}:\n{describe(report)}"
    if expect.subject is not None:
        found = [f for f in found if f.subject == expect.subject]
        assert found, f"{expect.code} not about {expect.subject}:\n{describe(report)}"
    statuses = {f.status for f in found}
    assert statuses == {expect.status}, f"{expect.code}: {statuses}\n{describe(report)}"
    for item in found:
        if item.status in (Status.WARN, Status.FAIL) and item.code not in NO_FIX_BY_DESIGN:
            assert item.fix, f"{item.code} about {item.subject} has no fix"
        if item.status is Status.ERROR:
            assert item.fix is None, f"{item.code} could not test, yet has a fix"
    return found[0]


def problems(report: Report, check: str) -> list[Finding]:
    """The findings of ``check`` that are warnings, failures or could-not-test."""
    result = report.result(check)
    assert result is not None, f"no {check} result in {report.domain}"
    serious = (Status.WARN, Status.FAIL, Status.ERROR)
    return [f for f in result.findings if f.status in serious]
