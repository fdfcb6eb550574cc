"""Postfix as a lab relay: STARTTLS in, relaying over verified TLS to a next hop, nothing leaves
the lab, clean start and stop."""

from __future__ import annotations

import os
import smtplib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.support.lab import require_binary

from mailshield.lab.ca import LabCA
from mailshield.lab.endpoint import AddressInUse, Endpoint, loopback
from mailshield.lab.postfix import Postfix, render_main_cf, render_master_cf

pytestmark = pytest.mark.lab

RELAY_HOST = "127.0.14.1"
NEXT_HOP_HOST = "127.0.14.9"
ROUTED = "routed.example"
WAIT = 30.0


@dataclass
class Received:
    """What the next hop saw: each message's recipients, TLS state and bytes."""

    messages: list[tuple[list[str], bool, bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), session.ssl is not None, envelope.content))
        self.arrived.set()
        return "250 2.0.0 kept"


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture(scope="module")
def root(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ca.write_root(tmp_path_factory.mktemp("ca") / "root.pem")


@pytest.fixture(scope="module")
def next_hop(
    ca: LabCA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Endpoint, Received]]:
    """An aiosmtpd server with a lab certificate, standing in for the report receiver."""
    received = Received()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = ca.issue("receiver.lab.test", NEXT_HOP_HOST)
    context.load_cert_chain(*cert.write(tmp_path_factory.mktemp("next-hop"), "next-hop"))
    endpoint = loopback(NEXT_HOP_HOST)
    controller = Controller(
        received, hostname=endpoint.host, port=endpoint.port, tls_context=context
    )
    controller.start()
    yield endpoint, received
    controller.stop()


@pytest.fixture(scope="module")
def postfix(
    ca: LabCA,
    root: Path,
    next_hop: tuple[Endpoint, Received],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Postfix]:
    """One Postfix relaying ``routed.example`` to the next hop, requiring TLS to it."""
    require_root_and_postfix()
    relay = Postfix(
        {ROUTED: next_hop[0]},
        listen=loopback(RELAY_HOST),
        workdir=tmp_path_factory.mktemp("postfix"),
        tls=ca.issue("relay.lab.test"),
        ca_file=root,
        outbound_tls="encrypt",
    )
    with relay:
        yield relay


def require_root_and_postfix() -> None:
    """Skip unless Postfix is installed and the tests run as root (its master needs root)."""
    require_binary("postfix")
    if os.geteuid() != 0:
        pytest.skip("Postfix can only be started by root")


def send(relay: Endpoint, recipient: str, root: Path | None = None) -> None:
    """Submit one small message to ``relay``, with STARTTLS verified by ``root`` when given."""
    with smtplib.SMTP(relay.host, relay.port, timeout=WAIT) as client:
        if root is not None:
            client._host = "relay.lab.test"  # type: ignore[attr-defined]  # name checked by TLS
            client.starttls(context=ssl.create_default_context(cafile=str(root)))
        client.sendmail("sender@lab.test", [recipient], b"Subject: lab\r\n\r\nhello\r\n")


def test_relays_routed_domain_to_next_hop_over_trusted_tls(
    postfix: Postfix, next_hop: tuple[Endpoint, Received], root: Path
) -> None:
    """Mail for a routed domain, submitted over verified STARTTLS, reaches the next hop over
    TLS that Postfix verified against the lab root."""
    _, received = next_hop
    received.arrived.clear()
    send(postfix.listen, f"tlsrpt@{ROUTED}", root)
    assert received.arrived.wait(WAIT), postfix.maillog_tail()
    recipients, over_tls, content = received.messages[-1]
    assert recipients == [f"tlsrpt@{ROUTED}"]
    assert over_tls
    assert b"hello" in content
    assert postfix.wait_for_log(f"to=<tlsrpt@{ROUTED}>, relay=127.0.14.9", WAIT)
    assert "Trusted TLS connection established to 127.0.14.9" in postfix.maillog()


def test_other_domains_are_refused_inside_the_lab(
    postfix: Postfix, next_hop: tuple[Endpoint, Received]
) -> None:
    """A recipient in a domain without a route is refused at RCPT by the error transport, so
    no name is looked up and nothing is relayed."""
    _, received = next_hop
    before = len(received.messages)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(postfix.listen, "someone@elsewhere.example")
    code, text = refused.value.recipients["someone@elsewhere.example"]
    assert code == 550
    assert b"no route outside the lab" in text
    assert len(received.messages) == before


def test_refuses_a_taken_address(postfix: Postfix, tmp_path: Path) -> None:
    """A second relay on the same address fails before starting anything."""
    second = Postfix({ROUTED: postfix.listen}, listen=postfix.listen, workdir=tmp_path)
    with pytest.raises(AddressInUse):
        second.start()


def test_stop_leaves_no_process_and_removes_the_queue(
    next_hop: tuple[Endpoint, Received], tmp_path: Path
) -> None:
    """After stop the foreground process is gone, the queue folder removed, the maillog kept."""
    require_root_and_postfix()
    relay = Postfix({ROUTED: next_hop[0]}, workdir=tmp_path)
    with relay:
        pid = relay.pid
        queue = Path(_setting(relay, "queue_directory"))
        assert queue.is_dir()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not queue.exists()
    assert "daemon started" in relay.maillog()


def _setting(relay: Postfix, name: str) -> str:
    for line in (relay.config_dir / "main.cf").read_text().splitlines():
        key, _, value = line.partition(" = ")
        if key == name:
            return value
    raise AssertionError(f"{name} not in main.cf")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("smtp_dns_support_level", "disabled"),
        ("smtpd_peername_lookup", "no"),
        ("inet_interfaces", "loopback-only"),
        ("default_transport", "error:5.7.1 lab relay: no route outside the lab"),
        ("relay_domains", "a.example, b.example"),
    ],
    ids=["no-dns", "no-ptr-lookups", "loopback-only", "error-default-route", "relay-domains"],
)
def test_main_cf_keeps_postfix_inside_the_lab(setting: str, expected: str) -> None:
    """The rendered main.cf never lets Postfix resolve names or route outside the lab."""
    text = render_main_cf(
        config_dir=Path("/c"),
        runtime=Path("/r"),
        maillog=Path("/w/maillog"),
        hostname="relay.lab.test",
        relay_domains=["a.example", "b.example"],
        tls_files=None,
        ca_file=None,
        outbound_tls="may",
        message_size_limit=1000,
    )
    assert f"{setting} = {expected}\n" in text


def test_tuning_replaces_and_adds_parameters() -> None:
    """``tuning`` replaces a parameter in place (Postfix warns about a repeated name) and adds
    new ones; an empty value stays empty."""
    text = render_main_cf(
        config_dir=Path("/c"),
        runtime=Path("/r"),
        maillog=Path("/w/maillog"),
        hostname="relay.lab.test",
        relay_domains=["a.example"],
        tls_files=None,
        ca_file=None,
        outbound_tls="may",
        message_size_limit=1000,
        tuning={"smtp_tls_loglevel": "0", "max_use": "1000"},
    )
    names = [line.split(" =", 1)[0] for line in text.splitlines()]
    assert len(names) == len(set(names))
    assert "smtp_tls_loglevel = 0\n" in text
    assert text.endswith("max_use = 1000\n")
    assert "mydestination =\n" in text


def test_master_cf_binds_the_exact_address_without_chroot() -> None:
    """smtpd listens on exactly the given address and no service runs chrooted."""
    text = render_master_cf(Endpoint("127.0.14.5", 2525))
    assert text.startswith("127.0.14.5:2525 inet n - n - - smtpd\n")
    assert all(line.split()[4] == "n" for line in text.splitlines())


def test_deferred_mail_is_listed_and_retried_on_flush(tmp_path: Path) -> None:
    """Mail for a next hop that is down is deferred and listed in the queue; a flush retries it
    at once instead of at the next queue run."""
    require_root_and_postfix()
    down = loopback(NEXT_HOP_HOST)  # nothing listens there
    with Postfix({ROUTED: down}, listen=loopback(RELAY_HOST), workdir=tmp_path) as relay:
        send(relay.listen, f"tlsrpt@{ROUTED}")
        relay.wait_for_log("status=deferred", WAIT)
        relay.settle(WAIT)
        [queued] = relay.queue()
        assert queued["queue_name"] == "deferred"
        assert queued["recipients"][0]["address"] == f"tlsrpt@{ROUTED}"
        assert "Connection refused" in queued["recipients"][0]["delay_reason"]
        relay.flush()
        assert len(relay.wait_for_log("status=deferred", WAIT, count=2)) == 2
