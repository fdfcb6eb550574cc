"""Rate limiter, password rules, plans and mail composition."""

from __future__ import annotations

import pytest

from mailshield.services.mailer import LogTransport, Mail, Mailer, SmtpTransport, mailer_for
from mailshield.services.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from mailshield.services.plans import catalogue
from mailshield.services.rate_limit import RateLimiter
from mailshield.services.settings import Settings

from .conftest import Outbox, fast_passwords


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_window() -> None:
    """Three events per minute per key: the fourth waits until the first ages out."""
    ticks = Ticks()
    limiter = RateLimiter(3, 60.0, ticks)
    assert [limiter.acquire("a") for _ in range(3)] == [None, None, None]
    ticks.now = 10.0
    assert limiter.acquire("a") == pytest.approx(50.0)
    assert limiter.acquire("b") is None
    ticks.now = 60.0
    assert limiter.acquire("a") is None


def test_refused_events_do_not_extend_the_wait() -> None:
    """Hammering while limited does not push the next allowed time further away."""
    ticks = Ticks()
    limiter = RateLimiter(1, 60.0, ticks)
    limiter.acquire("a")
    for second in range(1, 59):
        ticks.now = float(second)
        assert limiter.acquire("a") is not None
    ticks.now = 60.0
    assert limiter.acquire("a") is None


@pytest.mark.parametrize(
    ("password", "email", "ok"),
    [
        pytest.param("x" * MIN_LENGTH, "", True, id="minimum"),
        pytest.param("x" * (MIN_LENGTH - 1), "", False, id="too-short"),
        pytest.param("x" * (MAX_LENGTH + 1), "", False, id="too-long"),
        pytest.param("Ada@Example.com", "ada@example.com", False, id="the-address"),
        pytest.param("correct horse battery", "ada@example.com", True, id="passphrase"),
    ],
)
def test_password_rules(password: str, email: str, ok: bool) -> None:
    """Length bounds and not-the-address are the only rules (NIST SP 800-63B)."""
    assert (password_problem(password, email) is None) is ok


async def test_password_hashes_verify() -> None:
    """A hash verifies its password and no other; garbage hashes never verify."""
    passwords = fast_passwords()
    hashed = await passwords.hash("correct horse battery")
    assert (await passwords.verify(hashed, "correct horse battery")).ok
    assert not (await passwords.verify(hashed, "wrong")).ok
    assert not (await passwords.verify("!unusable", "anything")).ok


def test_plan_catalogue() -> None:
    """The free plan takes its limit from the settings; unlimited has none."""
    plans = catalogue(free_domains=3)
    assert plans["free"].max_domains == 3
    assert plans["free"].describe_limit() == "3 domains"
    assert plans["unlimited"].describe_limit() == "unlimited domains"


async def test_mail_composition() -> None:
    """Messages carry the sender, a Message-ID in its domain, and mark themselves automatic."""
    outbox = Outbox()
    await Mailer(outbox, "mailshield@example.net").send(Mail("ada@example.com", "Hi", "Body"))
    message = outbox.messages[0]
    assert message["From"] == "mailshield@example.net"
    assert message["Message-ID"].endswith("@example.net>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content().strip() == "Body"


@pytest.mark.parametrize(
    ("host", "transport"),
    [
        pytest.param("", LogTransport, id="no-host"),
        pytest.param("127.0.0.1", SmtpTransport, id="smtp"),
    ],
)
def test_transport_follows_the_settings(host: str, transport: type[object]) -> None:
    """With a mail host the mailer uses SMTP; without one it logs."""
    mailer = mailer_for(Settings(mail_host=host))
    assert isinstance(mailer._transport, transport)
