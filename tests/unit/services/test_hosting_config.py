"""The hosting part of the settings: normalised names and what each setup needs."""

from __future__ import annotations

import pytest

from mailshield.core.hosting.model import Setup
from mailshield.services.hosting_config import HostingConfig
from mailshield.services.settings import Settings


def test_names_are_normalised() -> None:
    """Host names from the settings are compared in A-label, lower-case form without a dot."""
    settings = Settings(policy_host="MTA-STS.MailShield.net.", delegation_zone="STS.MailShield.net")
    config = HostingConfig.from_settings(settings)
    assert config.policy_host == "mta-sts.mailshield.net"
    assert config.delegation_zone == "sts.mailshield.net"


def test_invalid_policy_host_is_refused() -> None:
    """A policy host that is not a host name fails early, naming the value."""
    with pytest.raises(ValueError, match="not a valid host name"):
        HostingConfig.from_settings(Settings(policy_host="mta sts"))


@pytest.mark.parametrize(
    ("config", "setup", "problem"),
    [
        (HostingConfig(), Setup.CNAME, "set policy_host"),
        (HostingConfig(policy_host="p.test"), Setup.CNAME, None),
        (HostingConfig(policy_addresses=("192.0.2.1",)), Setup.CNAME, None),
        (HostingConfig(policy_host="p.test"), Setup.DELEGATED, "delegation_zone"),
        (HostingConfig(policy_host="p.test", delegation_zone="z.test"), Setup.DELEGATED, None),
    ],
    ids=["nothing", "host-name", "addresses", "delegated-without-zone", "delegated"],
)
def test_problem(config: HostingConfig, setup: Setup, problem: str | None) -> None:
    """Each setup says what setting it lacks."""
    found = config.problem(setup)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
