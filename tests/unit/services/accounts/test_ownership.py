"""Judging ownership proofs from DNS answers."""

from __future__ import annotations

import pytest
from tests.support.fake_dns import NXDOMAIN, SERVFAIL, Entry, FakeDns

from mailshield.services.ownership import judge, new_token

TOKEN = "tok3n"
HOST = "mta-sts.mailshield.example"


@pytest.mark.parametrize(
    ("zone", "method", "problem_part"),
    [
        pytest.param(
            {"_mailshield.example.com TXT": ["mailshield-verify=tok3n"]}, "txt", None, id="txt"
        ),
        pytest.param(
            {"_mailshield.example.com TXT": [" mailshield-verify=tok3n "]},
            "txt",
            None,
            id="txt-with-spaces",
        ),
        pytest.param(
            {"_mailshield.example.com TXT": [("mailshield-verify=", "tok3n")]},
            "txt",
            None,
            id="txt-split-strings",
        ),
        pytest.param(
            {"mta-sts.example.com CNAME": ["MTA-STS.mailshield.example."]},
            "cname",
            None,
            id="cname",
        ),
        pytest.param({}, None, "there is no TXT record yet", id="nothing"),
        pytest.param(
            {"_mailshield.example.com TXT": ["mailshield-verify=other"]},
            None,
            "it holds 1 other TXT record",
            id="wrong-token",
        ),
        pytest.param(
            {"mta-sts.example.com CNAME": ["elsewhere.example.net."]},
            None,
            "is an alias of elsewhere.example.net",
            id="cname-elsewhere",
        ),
        pytest.param(
            {"_mailshield.example.com TXT": SERVFAIL}, None, "did not complete", id="servfail"
        ),
        pytest.param(
            {"_mailshield.example.com TXT": NXDOMAIN}, None, "no TXT record yet", id="nxdomain"
        ),
    ],
)
def test_judge(zone: dict[str, Entry], method: str | None, problem_part: str | None) -> None:
    """The TXT token or the MTA-STS CNAME proves ownership; otherwise the problem says why not."""
    dns = FakeDns(zone)
    txt = dns.answer("_mailshield.example.com", "TXT")
    cname = dns.answer("mta-sts.example.com", "CNAME")
    verdict = judge("example.com", TOKEN, txt, cname, HOST)
    assert verdict.method == method
    if problem_part is None:
        assert verdict.problem is None
    else:
        assert verdict.problem is not None
        assert problem_part in verdict.problem


def test_no_policy_host_means_no_cname_proof() -> None:
    """Without a configured policy host a CNAME never proves anything."""
    dns = FakeDns({"mta-sts.example.com CNAME": ["anything.example."]})
    txt = dns.answer("_mailshield.example.com", "TXT")
    cname = dns.answer("mta-sts.example.com", "CNAME")
    assert judge("example.com", TOKEN, txt, cname, "").method is None


def test_tokens_are_unique_and_url_safe() -> None:
    """Tokens differ every time and hold only base64url characters."""
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(t.replace("-", "").replace("_", "").isalnum() for t in tokens)
