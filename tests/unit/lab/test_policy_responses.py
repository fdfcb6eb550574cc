"""What each lab policy behaviour answers, decided without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.lab.behaviours import PolicyBehaviour
from mailshield.lab.policy_responses import (
    OVERSIZE_BYTES,
    POLICY_PATH,
    REDIRECT_TARGET,
    PolicySite,
    pad_policy,
    plan_response,
)

POLICY = b"version: STSv1\r\nmode: testing\r\nmx: mx.a.test\r\nmax_age: 600\r\n"
ORIGIN = "https://mta-sts.a.test:8443"


@pytest.mark.parametrize(
    ("behaviour", "status", "content_type", "body"),
    [
        pytest.param(PolicyBehaviour.VALID, 200, "text/plain", POLICY, id="valid"),
        pytest.param(PolicyBehaviour.WRONG_CERT, 200, "text/plain", POLICY, id="wrong-cert"),
        pytest.param(PolicyBehaviour.SLOW, 200, "text/plain", POLICY, id="slow"),
        pytest.param(PolicyBehaviour.HTML, 200, "text/html", POLICY, id="html"),
        pytest.param(PolicyBehaviour.NOT_FOUND, 404, "text/plain", b"404 not found\n", id="404"),
        pytest.param(
            PolicyBehaviour.SERVER_ERROR,
            500,
            "text/plain",
            b"500 internal server error\n",
            id="500",
        ),
    ],
)
def test_policy_path_answers_per_behaviour(
    behaviour: PolicyBehaviour, status: int, content_type: str, body: bytes
) -> None:
    """GET of the policy path answers with the behaviour's status, media type and body."""
    planned = plan_response(
        PolicySite("mta-sts.a.test", behaviour, POLICY), "GET", POLICY_PATH, ORIGIN
    )
    assert (planned.status, planned.body) == (status, body)
    assert planned.content_type.startswith(content_type)
    assert planned.trickle == (behaviour is PolicyBehaviour.SLOW)


def test_redirect_points_into_the_same_origin() -> None:
    """A redirect site answers 301 to the redirect target on the origin the client used."""
    site = PolicySite("mta-sts.a.test", PolicyBehaviour.REDIRECT, POLICY)
    planned = plan_response(site, "GET", POLICY_PATH, ORIGIN)
    target = plan_response(site, "GET", REDIRECT_TARGET, ORIGIN)
    assert (planned.status, planned.location) == (301, f"{ORIGIN}{REDIRECT_TARGET}")
    assert (target.status, target.body) == (200, POLICY)


def test_oversize_pads_past_the_fetch_cap() -> None:
    """An oversize body starts with the policy and is over 64 KiB."""
    site = PolicySite("mta-sts.a.test", PolicyBehaviour.OVERSIZE, POLICY)
    body = plan_response(site, "GET", POLICY_PATH, ORIGIN).body
    assert body.startswith(POLICY)
    assert len(body) >= OVERSIZE_BYTES > 65536


@pytest.mark.parametrize(
    ("site", "method", "path", "status"),
    [
        pytest.param(None, "GET", POLICY_PATH, 404, id="unknown-site"),
        pytest.param(PolicySite("s"), "GET", "/index.html", 404, id="unknown-path"),
        pytest.param(PolicySite("s"), "HEAD", POLICY_PATH, 405, id="head"),
        pytest.param(PolicySite("s"), "GET", REDIRECT_TARGET, 404, id="target-not-redirect"),
    ],
)
def test_everything_else_is_an_error(
    site: PolicySite | None, method: str, path: str, status: int
) -> None:
    """Unknown sites and paths are 404 and methods other than GET 405."""
    assert plan_response(site, method, path, ORIGIN).status == status


def test_text_policy_is_served_as_utf8_with_its_line_endings() -> None:
    """A str policy is encoded as UTF-8 without newline translation."""
    assert PolicySite("s", policy="a\r\nb\n").policy_bytes == b"a\r\nb\n"


@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=20_000))
def test_pad_policy_keeps_the_policy_and_reaches_the_size(policy: bytes, size: int) -> None:
    """Padding never loses the policy and always reaches the requested size."""
    padded = pad_policy(policy, size)
    assert padded.startswith(policy)
    assert len(padded) >= size


@pytest.mark.parametrize(
    ("policy", "newline"),
    [pytest.param(POLICY, b"\r\n", id="crlf"), pytest.param(b"version: STSv1\n", b"\n", id="lf")],
)
def test_padding_follows_the_policy_line_ending(policy: bytes, newline: bytes) -> None:
    """Padding lines end like the policy's lines, so the document stays consistent."""
    padding = pad_policy(policy, 5000)[len(policy) :]
    assert padding.count(newline) == padding.count(b"\n")
    assert padding.startswith(b"x-padding: ")
