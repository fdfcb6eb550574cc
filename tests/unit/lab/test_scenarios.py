"""Bundled scenarios and the bulk generator."""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from mailshield.lab.behaviours import MxBehaviour
from mailshield.lab.scenario import ScenarioError
from mailshield.lab.scenarios import bundled_names, bundled_path, find_scenario, generate_bulk
from mailshield.lab.zones import build_zones


@pytest.mark.parametrize("name", bundled_names())
def test_bundled_scenarios_load_and_compile(name: str) -> None:
    """Every bundled scenario validates and its zones build."""
    scenario = find_scenario(name)
    assert scenario.name == name
    assert build_zones(scenario).zones


def test_demo_covers_the_range_from_excellent_to_broken() -> None:
    """The demo has about a dozen described domains, with the MX behaviours it promises."""
    demo = find_scenario("demo")
    assert len(demo.domains) >= 12
    assert all(domain.description for domain in demo.domains)
    behaviours = {host.behaviour for host in demo.mx_hosts}
    assert {MxBehaviour.VALID, MxBehaviour.EXPIRED, MxBehaviour.NO_STARTTLS} <= behaviours
    assert not demo.signed_domains  # DNS faults must reach the checker directly


def test_every_demo_domain_has_an_soa() -> None:
    """Each demo domain answers its SOA from the compiled zones."""
    demo = find_scenario("demo")
    zones = build_zones(demo)
    for domain in demo.domains:
        result = zones.resolve(dns.name.from_text(domain.name), dns.rdatatype.SOA)
        assert result.rcode == dns.rcode.NOERROR, domain.name
        assert result.answer


def test_bulk_domains_are_healthy_and_share_two_addresses() -> None:
    """generate_bulk makes n complete domains whose hosts sit on one MX and one policy address."""
    scenario = generate_bulk(25, mx_address="127.0.1.25", policy_address="127.0.1.80")
    assert [d.name for d in scenario.domains][:2] == ["d0001.test", "d0002.test"]
    assert len(scenario.domains) == 25
    assert {a for h in scenario.mx_hosts for a in h.addresses} == {"127.0.1.25"}
    assert {a for h in scenario.policy_hosts for a in h.addresses} == {"127.0.1.80"}
    zones = build_zones(scenario)
    for name in ("_dmarc.d0007.test", "_mta-sts.d0007.test", "_smtp._tls.d0007.test"):
        assert zones.resolve(dns.name.from_text(name), dns.rdatatype.TXT).answer, name


def test_bulk_spec_and_latency() -> None:
    """`bulk:N` names a generated scenario; the latency knob reaches the lab settings."""
    assert find_scenario("bulk:3").name == "bulk-3"
    assert generate_bulk(1, latency_ms=20).lab.latency_ms == 20


@pytest.mark.parametrize("spec", ["bulk:0", "bulk:x", "bulk:1000001"])
def test_bad_bulk_specs(spec: str) -> None:
    """A bulk spec needs a count between 1 and 100000."""
    with pytest.raises(ScenarioError, match="bulk:N"):
        find_scenario(spec)


def test_unknown_bundled_name_lists_the_known_ones() -> None:
    """An unknown name says which scenarios are bundled."""
    with pytest.raises(ScenarioError, match="bundled: demo, dnssec"):
        find_scenario("nonesuch")


def test_file_path_is_loaded(tmp_path: Path) -> None:
    """A path to a TOML file is loaded as a scenario."""
    path = tmp_path / "mine.toml"
    path.write_text('[domains."m.test"]\n')
    assert find_scenario(str(path)).domains[0].name == "m.test"
    assert bundled_path("demo").name == "demo.toml"
