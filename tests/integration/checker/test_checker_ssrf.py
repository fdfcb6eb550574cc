"""The SSRF guard, held by a canary: a domain whose MX and ``mta-sts`` host point at a loopback
listener (directly, and as an IPv4-mapped IPv6 address) is checked without ``allow_private``,
and the listener must receive nothing while the report says why it could not test.

The canary sockets listen but never accept: the kernel completes any TCP handshake into the
accept queue, so after the check an empty queue proves no connection was ever made. The same
world checked *with* ``allow_private`` fills the queue, which proves the canary would notice.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator

import pytest
from checker_lab import HTTPS_PORT, Reports, make_reports, running_lab, with_code
from ssrf_canary import CANARY, DOMAIN, Canary, canary_world

from mailshield.core.model import Report, Status
from mailshield.lab.endpoint import free_port
from mailshield.lab.runner import Lab


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port(CANARY)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(canary_world(), tmp_path_factory.mktemp("ssrf")) as running:
        yield running


@pytest.fixture
def canary(smtp_port: int) -> Iterator[Canary]:
    listener = Canary((smtp_port, HTTPS_PORT))
    with contextlib.closing(listener):
        yield listener


async def _check(lab: Lab, smtp_port: int, *, allow_private: bool) -> Report:
    reports: Reports = make_reports(lab, allow_private=allow_private, smtp_port=smtp_port)
    return await reports(DOMAIN)


async def test_guarded_check_never_contacts_the_canary(
    lab: Lab, smtp_port: int, canary: Canary
) -> None:
    """Without allow_private neither the SMTP nor the HTTPS probe connects to loopback, and the
    report says the hosts could not be tested because their addresses are not public."""
    report = await _check(lab, smtp_port, allow_private=False)
    assert canary.connections() == 0
    unreachable = with_code(report, "starttls.unreachable")
    probed = {ipaddress.ip_address(str(f.params["address"])) for f in unreachable}
    assert probed == {ipaddress.ip_address(CANARY), ipaddress.ip_address(f"::ffff:{CANARY}")}
    assert {f.status for f in unreachable} == {Status.ERROR}
    assert all("not public" in f.message for f in unreachable)
    (fetch,) = with_code(report, "mta_sts.policy.fetch_failed")
    assert "non-public" in fetch.message
    assert with_code(report, "starttls.not_offered") == []


async def test_lab_mode_does_reach_the_canary(lab: Lab, smtp_port: int, canary: Canary) -> None:
    """With allow_private the same check connects: the canary can see a probe, so its silence
    above is the guard's doing."""
    report = await _check(lab, smtp_port, allow_private=True)
    assert canary.connections() >= 2  # one SMTP probe and one policy fetch at least
    assert with_code(report, "starttls.unreachable")  # the canary never greets
