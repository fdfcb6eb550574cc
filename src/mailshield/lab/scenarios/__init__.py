"""Scenarios shipped with MailShield (``demo``, …) and synthetic ones generated for benchmarks.

:func:`find_scenario` accepts what a user types after ``mailshield lab up``: a bundled name
(``demo``), a path to a TOML file, or ``bulk:N`` for :func:`generate_bulk` with ``n = N``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from mailshield.lab.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

BULK_PREFIX = "bulk:"


def bundled_names() -> list[str]:
    """The names of the scenarios shipped in this package."""
    folder = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def bundled_path(name: str) -> Path:
    """The file of the bundled scenario ``name``."""
    path = Path(str(resources.files(__name__).joinpath(f"{name}.toml")))
    if not path.is_file():
        known = ", ".join(bundled_names())
        raise ScenarioError(f"no bundled scenario called {name!r} (bundled: {known})")
    return path


def find_scenario(spec: str) -> Scenario:
    """Load a scenario from a bundled name, a file path, or ``bulk:N``."""
    if spec.startswith(BULK_PREFIX):
        count = spec.removeprefix(BULK_PREFIX)
        if not count.isdigit() or not 0 < int(count) <= 100_000:
            raise ScenarioError(f"{spec!r}: write bulk:N with N between 1 and 100000")
        return generate_bulk(int(count))
    path = Path(spec)
    if path.suffix == ".toml" or path.is_file() or "/" in spec:
        return load_scenario(path)
    return load_scenario(bundled_path(spec))


def generate_bulk(
    n: int = 1000,
    *,
    name: str | None = None,
    suffix: str = "test",
    dns: str = "127.53.0.1:53",
    mx_address: str = "127.53.1.25",
    policy_address: str = "127.53.1.80",
    latency_ms: float = 0.0,
) -> Scenario:
    """``n`` healthy domains ``d0001.<suffix>`` … for benchmarks: each with one MX, SPF ``-all``,
    DMARC ``p=reject``, an MTA-STS record and enforce policy, and TLS-RPT. Every MX shares
    ``mx_address`` (one listener, one certificate for all names) and every policy host shares
    ``policy_address``."""
    width = max(4, len(str(n)))
    domains = {
        f"d{index:0{width}d}.{suffix}": _bulk_domain(
            f"d{index:0{width}d}.{suffix}", mx_address, policy_address
        )
        for index in range(1, n + 1)
    }
    data: dict[str, Any] = {
        "name": name or f"bulk-{n}",
        "description": f"{n} healthy synthetic domains for benchmarks",
        "lab": {"dns": dns, "latency_ms": latency_ms},
        "domains": domains,
    }
    return scenario_from_dict(data)


def _bulk_domain(domain: str, mx_address: str, policy_address: str) -> dict[str, Any]:
    return {
        "records": [
            '@ TXT "v=spf1 mx -all"',
            f'_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"',
            '_mta-sts TXT "v=STSv1; id=20240101T000000"',
            f'_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{domain}"',
            f"www A {policy_address}",
        ],
        "mx": [{"name": "mx", "addresses": [mx_address]}],
        "mta_sts": {"addresses": [policy_address]},
    }
