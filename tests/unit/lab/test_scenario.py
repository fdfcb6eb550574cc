"""The scenario file format: what loads, what is derived, and the errors for what does not."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.scenario import (
    DnsFault,
    FaultAction,
    Ports,
    ScenarioError,
    load_scenario,
    parse_scenario,
    render_policy,
    scenario_from_dict,
)

FULL = """
name = "full"
description = "every key once"

[lab]
dns = "127.0.1.1:5353"
latency_ms = 20
network = "127.0.1.0/28"
smtp_port = 2525
https_port = 8443
[lab.unprivileged]
dns_port = 5300
smtp_port = 2626
https_port = 9443

[domains."Good.Test."]
description = "the good one"
records = ['@ TXT "v=spf1 mx -all"']
mx = [
  { name = "mx1", behaviour = "valid", addresses = ["127.0.1.10", "::1"] },
  { name = "mx2.other.test.", behaviour = "expired", preference = 50 },
  { name = "backup", mx_record = false },
]
mta_sts = { behaviour = "redirect", mode = "testing", max_age = 3600 }
faults = [
  { name = "_mta-sts", type = "txt", action = "timeout" },
  { name = "@", action = "answer", latency_ms = 300 },
  { name = "big", action = "oversize" },
]
signed = true
bogus = true

[domains."other.test"]
"""


def test_full_scenario_loads_every_key() -> None:
    """A scenario using every key loads into the expected values."""
    scenario = parse_scenario(FULL)
    good = scenario.domain("good.test")
    assert scenario.name == "full"
    assert scenario.lab.dns_host == "127.0.1.1"
    assert scenario.lab.ports == Ports(5353, 2525, 8443)
    assert scenario.lab.ports_for(privileged=False) == Ports(5300, 2626, 9443)
    assert scenario.lab.latency_ms == 20
    assert good.name == "good.test"
    assert good.signed
    assert good.bogus
    assert [(h.name, h.behaviour, h.preference) for h in good.mx] == [
        ("mx1.good.test", MxBehaviour.VALID, 10),
        ("mx2.other.test", MxBehaviour.EXPIRED, 50),
        ("backup.good.test", MxBehaviour.VALID, None),
    ]
    assert good.mx[0].addresses == ("127.0.1.10", "::1")
    assert good.faults == (
        DnsFault("_mta-sts.good.test", "TXT", FaultAction.TIMEOUT),
        DnsFault("good.test", None, FaultAction.ANSWER, 300.0),
        DnsFault("big.good.test", None, FaultAction.OVERSIZE, 0.0, 4000),
    )


def test_policy_is_rendered_from_the_domain_mx_hosts() -> None:
    """Without a policy text, the policy lists the domain's MX hosts with the given mode."""
    policy = parse_scenario(FULL).domain("good.test").policy_host
    assert policy is not None
    assert policy.name == "mta-sts.good.test"
    assert policy.behaviour is PolicyBehaviour.REDIRECT
    assert policy.policy == render_policy(
        "testing", ("mx1.good.test", "mx2.other.test", "backup.good.test"), 3600
    )
    assert policy.policy.startswith("version: STSv1\nmode: testing\nmx: mx1.good.test\n")


def test_policy_text_is_kept_byte_for_byte() -> None:
    """A given policy text is served as written, CRLF line endings included."""
    text = '[domains."a.test"]\nmta_sts = { policy = "version: STSv1\\r\\nmode: none\\r\\n" }\n'
    policy = parse_scenario(text).domain("a.test").policy_host
    assert policy is not None
    assert policy.policy == "version: STSv1\r\nmode: none\r\n"


def test_hosts_without_addresses_get_the_next_free_ones() -> None:
    """Hosts naming no address get addresses from the lab network, in file order, never the DNS."""
    text = """
[lab]
dns = "127.0.1.1:53"
network = "127.0.1.0/29"
[domains."a.test"]
mx = [{ name = "mx1" }, { name = "mx2" }]
mta_sts = {}
"""
    domain = parse_scenario(text).domain("a.test")
    assert [h.addresses for h in domain.mx] == [("127.0.1.2",), ("127.0.1.3",)]
    assert domain.policy_host is not None
    assert domain.policy_host.addresses == ("127.0.1.4",)


def test_with_ports_moves_every_service() -> None:
    """with_ports replaces both port sets and, when given, the DNS address."""
    scenario = parse_scenario(FULL).with_ports(Ports(0, 0, 0), dns_host="127.0.1.7")
    assert scenario.lab.ports_for(privileged=True) == Ports(0, 0, 0)
    assert scenario.lab.ports_for(privileged=False) == Ports(0, 0, 0)
    assert scenario.lab.dns_host == "127.0.1.7"


def test_load_scenario_names_it_after_the_file(tmp_path: Path) -> None:
    """A scenario without a name takes its file's stem."""
    path = tmp_path / "mine.toml"
    path.write_text('[domains."a.test"]\n')
    assert load_scenario(path).name == "mine"


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A missing file is reported as a scenario error naming the path."""
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.toml")


# Each invalid scenario, with the words its error must contain (the domain and the key at fault).
INVALID = [
    pytest.param(
        "domains = 3", "scenario: key 'domains': expected a table", id="domains-not-table"
    ),
    pytest.param("[lab]\n", "key 'domains' is required", id="no-domains"),
    pytest.param("[domains]\n", "at least one domain", id="empty-domains"),
    pytest.param("x = 1\n[domains.'a.test']", "unknown key 'x'", id="unknown-top-key"),
    pytest.param(
        "[domains.'a.test']\nrecods = []",
        "domain 'a.test': unknown key 'recods'",
        id="typo-in-domain-key",
    ),
    pytest.param(
        "[domains.'a.test']\nrecords = 'x'",
        "domain 'a.test': key 'records': expected a list",
        id="records-not-list",
    ),
    pytest.param(
        "[domains.'a.test']\nrecords = [1]",
        "key 'records[0]': expected a string",
        id="record-not-string",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{ behaviour = 'valid' }]",
        "domain 'a.test', key 'mx[0]': key 'name' is required",
        id="mx-without-name",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{ name = 'mx', behaviour = 'vaild' }]",
        "key 'mx[0]': key 'behaviour': 'vaild' is not one of: valid, expired",
        id="mx-unknown-behaviour",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{ name = 'mx', addresses = ['192.0.2.1'] }]",
        "192.0.2.1 is not a loopback address",
        id="mx-address-outside-lab",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{ name = 'mx', addresses = ['nope'] }]",
        "'nope' is not an IP address",
        id="mx-address-not-ip",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{ name = 'mx', preference = 70000 }]",
        "key 'preference': must be between 0 and 65535",
        id="mx-preference-range",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{ name = 'mx', preference = true }]",
        "key 'preference': expected an integer, got bool",
        id="mx-preference-bool",
    ),
    pytest.param(
        "[domains.'a.test']\nmta_sts = { behaviour = 'teapot' }",
        "domain 'a.test', key 'mta_sts': key 'behaviour': 'teapot' is not one of",
        id="policy-unknown-behaviour",
    ),
    pytest.param(
        "[domains.'a.test']\nmta_sts = { mx = 'mx.a.test' }",
        "key 'mta_sts': key 'mx': expected a list",
        id="policy-mx-not-list",
    ),
    pytest.param(
        "[domains.'a.test']\nfaults = [{ name = 'x', action = 'explode' }]",
        "key 'faults[0]': key 'action': 'explode' is not one of",
        id="fault-action",
    ),
    pytest.param(
        "[domains.'a.test']\nfaults = [{ name = 'x', type = 'T-X' }]",
        "key 'type': 'T-X' is not a record type",
        id="fault-type",
    ),
    pytest.param(
        "[domains.'a.test']\nfaults = [{ name = 'x', latency_ms = -1 }]",
        "key 'latency_ms': must not be negative",
        id="fault-negative-latency",
    ),
    pytest.param(
        "[domains.'a.test']\nfaults = [{ name = 'x', action = 'oversize', size = 99999 }]",
        "key 'size': must be between 0 and 60000",
        id="fault-oversize-size",
    ),
    pytest.param(
        "[domains.'a.test']\nbogus = true",
        "domain 'a.test': key 'bogus': a bogus zone must",
        id="bogus-unsigned",
    ),
    pytest.param("[domains.'a..test']", "domain 'a..test': key 'name'", id="bad-domain-name"),
    pytest.param(
        "[domains.'a.test']\n[domains.'A.test.']",
        "domain 'a.test': defined twice",
        id="duplicate-domain",
    ),
    pytest.param(
        "[lab]\ndns = '10.0.0.1:53'\n[domains.'a.test']", "lab: key 'dns'", id="dns-not-loopback"
    ),
    pytest.param(
        "[lab]\ndns = '127.0.0.1'\n[domains.'a.test']", "like 127.53.0.1:53", id="dns-without-port"
    ),
    pytest.param(
        "[lab]\nsmtp_port = 70000\n[domains.'a.test']", "lab: key 'smtp_port'", id="port-range"
    ),
    pytest.param(
        "[lab]\nnetwork = '10.0.0.0/8'\n[domains.'a.test']",
        "lab: key 'network': '10.0.0.0/8'",
        id="network-outside-loopback",
    ),
    pytest.param(
        "[lab.unprivileged]\nftp_port = 21\n[domains.'a.test']",
        "lab.unprivileged: unknown key 'ftp_port'",
        id="unprivileged-unknown",
    ),
    pytest.param(
        "[lab]\nnetwork = '127.0.1.0/31'\n[domains.'a.test']\n"
        "mx = [{name='a'}, {name='b'}, {name='c'}]",
        "no free address left",
        id="network-exhausted",
    ),
    pytest.param(
        "[domains.'a.test']\nmx = [{name='a', addresses=['127.0.1.9']}]\n"
        "[domains.'b.test']\nmx = [{name='b', behaviour='expired', addresses=['127.0.1.9']}]",
        "domain 'b.test': host b.b.test: address 127.0.1.9 is already used by a.a.test",
        id="shared-address-different-behaviour",
    ),
    pytest.param("[domains.'a.test'\n", "not valid TOML", id="not-toml"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_scenarios_say_where(text: str, message: str) -> None:
    """An invalid scenario raises ScenarioError naming the domain and key at fault."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert message in str(caught.value)


@given(st.text(max_size=300))
def test_parse_scenario_only_raises_scenario_errors(text: str) -> None:
    """For any text, parse_scenario returns a scenario or raises ScenarioError, nothing else."""
    with contextlib.suppress(ScenarioError):
        parse_scenario(text)


@given(
    st.dictionaries(
        st.sampled_from(["records", "mx", "mta_sts", "faults", "signed", "bogus", "zz"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
            max_leaves=6,
        ),
    )
)
def test_any_domain_table_only_raises_scenario_errors(table: dict[str, object]) -> None:
    """Whatever a domain table holds, validation raises ScenarioError or nothing."""
    with contextlib.suppress(ScenarioError):
        scenario_from_dict({"domains": {"a.test": table}})
