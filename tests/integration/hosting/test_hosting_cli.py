"""``mailshield domains`` end to end in the lab: records printed, published, verified, enforced,
drifted and removed, through ``click.testing.CliRunner`` on SQLite."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.integration.hosting.lab_dns import publish, unpublish, zone_lines
from tests.support.lab_world import checker_overrides, lab_world_thread

from mailshield.interfaces.cli.main import cli
from mailshield.lab.runner import Lab

pytestmark = pytest.mark.lab

POLICY_HOST = "mta-sts.mailshield.test"

SCENARIO = """
name = "hosting"
[lab]
network = "127.77.9.0/24"

[domains."mailshield.test"]
records = ['mta-sts A 127.77.9.250']

[domains."onboard.test"]
mx = [{ name = "mx" }]

[domains."healthy.test"]
mx = [{ name = "mx" }]

[domains."expired.test"]
mx = [{ name = "mx", behaviour = "expired" }]

[domains."follow.test"]
mx = [{ name = "mx1" }, { name = "mx2", mx_record = false }]

[domains."guard.test"]
mx = [{ name = "mx1" }, { name = "mx2", mx_record = false }]

[domains."leaving.test"]
mx = [{ name = "mx" }]
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The hosting lab, shared by the module (each test uses its own domain)."""
    with lab_world_thread(SCENARIO, tmp_path_factory.mktemp("lab")) as world:
        yield world


@pytest.fixture
def env(lab: Lab, tmp_path: Path) -> dict[str, str]:
    """Settings for one test: its own SQLite file, the lab's resolver, CA and SMTP port."""
    overrides = checker_overrides(lab)
    return {
        "MAILSHIELD_DATA_DIR": str(tmp_path / "data"),
        "MAILSHIELD_AUTO_MIGRATE": "true",
        "MAILSHIELD_RESOLVERS": ",".join(overrides["resolvers"]),
        "MAILSHIELD_CA_BUNDLE": str(overrides["ca_bundle"]),
        "MAILSHIELD_ALLOW_PRIVATE": "true",
        "MAILSHIELD_SMTP_PORT": str(overrides["smtp_port"]),
        "MAILSHIELD_POLICY_HOST": POLICY_HOST,
    }


def run(env: dict[str, str], *args: str) -> Result:
    """Run ``mailshield domains ARGS``."""
    return CliRunner().invoke(cli, ["domains", *args], env=env, catch_exceptions=False)


def onboard(lab: Lab, env: dict[str, str], domain: str, *options: str) -> Result:
    """``add`` the domain, publish the records it printed, and ``verify`` it."""
    added = run(env, "add", domain, *options)
    assert added.exit_code == 0, added.output
    publish(lab, zone_lines(added.output))
    verified = run(env, "verify", domain)
    assert verified.exit_code == 0, verified.output
    return added


def status(env: dict[str, str], domain: str) -> dict[str, object]:
    result = run(env, "status", domain, "--json")
    assert result.exit_code == 0, result.output
    [data] = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_onboarding_prints_records_that_make_the_domain_active(
    lab: Lab, env: dict[str, str]
) -> None:
    """add prints the zone-file records; published in the lab DNS they verify as active."""
    added = run(env, "add", "onboard.test")
    assert added.exit_code == 0, added.output
    lines = zone_lines(added.output)
    policy_id = re.search(r"id=(\w+)", added.output)
    assert policy_id is not None
    assert lines == [
        f"mta-sts.onboard.test.\tIN\tCNAME\t{POLICY_HOST}.",
        f'_mta-sts.onboard.test.\tIN\tTXT\t"v=STSv1; id={policy_id.group(1)}"',
    ]
    assert "mx: mx.onboard.test" in added.output
    pending = run(env, "verify", "onboard.test")
    assert pending.exit_code == 3, pending.output
    assert "MISSING" in pending.output
    publish(lab, lines)
    verified = run(env, "verify", "onboard.test")
    assert verified.exit_code == 0, verified.output
    assert "onboard.test: active, serving" in verified.output
    data = status(env, "onboard.test")
    assert data["state"] == "active"
    assert data["points_here"] is True
    assert data["id_live"] is True
    listing = run(env, "status")
    assert re.search(r"onboard\.test\s+active\s+testing", listing.output)


def test_dry_run_and_json(lab: Lab, env: dict[str, str]) -> None:
    """--dry-run shows the proposal without hosting; --json gives the same facts as data."""
    dry = run(env, "add", "healthy.test", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["live_mx"] == ["mx.healthy.test"]
    assert run(env, "status").output.startswith("No hosted domains")
    added = run(env, "add", "healthy.test", "--json", "--max-age", "86400")
    data = json.loads(added.stdout)
    assert data["state"] == "pending_dns"
    assert data["policy"]["max_age"] == 86400
    assert [r["type"] for r in data["records"]] == ["CNAME", "TXT"]


def test_enforce_allowed_for_a_healthy_domain(lab: Lab, env: dict[str, str]) -> None:
    """Every MX covered and serving valid TLS: enforce is served, and the new id is shown."""
    onboard(lab, env, "healthy.test")
    result = run(env, "mode", "healthy.test", "enforce")
    assert result.exit_code == 0, result.output
    assert "mode: enforce" in result.output
    assert "now publish its id" in result.output
    assert status(env, "healthy.test")["policy"]["mode"] == "enforce"  # type: ignore[index]


def test_enforce_refused_for_an_expired_mx_certificate(lab: Lab, env: dict[str, str]) -> None:
    """The live check finds the expired certificate: enforce is refused with the reason."""
    onboard(lab, env, "expired.test")
    refused = run(env, "mode", "expired.test", "enforce")
    assert refused.exit_code == 1, refused.output
    assert "cannot move to enforce" in refused.output
    assert "expired" in refused.output
    assert "--force would override this" in refused.output
    assert status(env, "expired.test")["policy"]["mode"] == "testing"  # type: ignore[index]
    forced = run(env, "mode", "expired.test", "enforce", "--force")
    assert forced.exit_code == 0, forced.output
    assert "Forced past the enforce gate" in forced.output
    assert "mx.expired.test" in forced.output


def test_testing_policy_follows_a_new_mx(lab: Lab, env: dict[str, str]) -> None:
    """A new MX record in testing mode is followed: the policy names it under a new id."""
    onboard(lab, env, "follow.test")
    before = status(env, "follow.test")["policy"]
    publish(lab, mx_records("follow.test", "mx1", "mx2"))
    result = run(env, "verify", "follow.test")
    assert result.exit_code == 0, result.output
    after = status(env, "follow.test")
    assert after["policy"]["mx"] == ["mx1.follow.test", "mx2.follow.test"]  # type: ignore[index]
    assert after["policy"]["id"] != before["id"]  # type: ignore[index]
    assert after["id_live"] is False
    assert "now publish its id" in result.output or "Waiting for id=" in result.output


def test_enforce_policy_alerts_on_mx_drift(lab: Lab, env: dict[str, str]) -> None:
    """In enforce a new MX is not followed: status explains the drift and what to do."""
    onboard(lab, env, "guard.test")
    assert run(env, "mode", "guard.test", "enforce").exit_code == 0
    publish(lab, mx_records("guard.test", "mx1", "mx2"))
    result = run(env, "verify", "guard.test")
    assert "MX drift" in result.output
    assert "mx2.guard.test" in result.output
    assert "refuse to deliver" in result.output
    data = status(env, "guard.test")
    assert data["policy"]["mode"] == "enforce"  # type: ignore[index]
    assert data["mx_drift"]["uncovered"] == ["mx2.guard.test"]  # type: ignore[index]


def test_removal_shows_the_earliest_safe_deletion_time(lab: Lab, env: dict[str, str]) -> None:
    """remove serves mode none under a new id; once it is live the safe time is shown."""
    onboard(lab, env, "leaving.test")
    removal = run(env, "remove", "leaving.test")
    assert removal.exit_code == 0, removal.output
    assert "mode none" in removal.output
    assert "not known yet" in removal.output
    too_soon = run(env, "remove", "leaving.test", "--finish")
    assert too_soon.exit_code == 1
    assert "not yet safe" in too_soon.output
    publish(lab, [line for line in zone_lines(removal.output) if "TXT" in line])
    detail = run(env, "verify", "leaving.test")
    assert "Earliest safe time to delete the records:" in detail.output
    data = status(env, "leaving.test")
    assert data["state"] == "removing"
    assert data["removal"]["delete_after"]  # type: ignore[index]
    finished = run(env, "remove", "leaving.test", "--finish", "--force")
    assert finished.exit_code == 0, finished.output
    assert "You may now delete these records" in finished.output
    unpublish(lab, "_mta-sts.leaving.test", "TXT")


def test_errors_exit_with_their_codes(lab: Lab, env: dict[str, str]) -> None:
    """Unknown domains are refused (1); a missing policy_host is a configuration error (2)."""
    unknown = run(env, "status", "nowhere.test")
    assert unknown.exit_code == 1
    assert "not hosted by this account" in unknown.output
    bare = {**env, "MAILSHIELD_POLICY_HOST": ""}
    unconfigured = run(bare, "add", "onboard.test")
    assert unconfigured.exit_code == 2
    assert "policy_host" in unconfigured.output


def mx_records(domain: str, *hosts: str) -> list[str]:
    """Zone lines making ``hosts`` (labels under ``domain``) its MX set."""
    return [f"{domain}. IN MX {10 * (i + 1)} {h}.{domain}." for i, h in enumerate(hosts)]
