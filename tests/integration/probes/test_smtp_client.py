"""The SMTP probe against in-test SMTP servers: STARTTLS variants and every way to fail."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable

import pytest
from probe_tls_peers import SMTP_HOST, Canary, SmtpScript, StartSmtpPeer

from mailshield.core.observations import ConnectOutcome, SmtpProbe
from mailshield.probes.net_policy import AddressPolicy
from mailshield.probes.quickack import PromptAcks
from mailshield.probes.smtp import SmtpClient

MX = "mx.example.test"
LAB = AddressPolicy(allow_private=True)


def client(port: int, **options: object) -> SmtpClient:
    """A lab-mode client for the peer's port."""
    options.setdefault("timeout", 2.0)
    return SmtpClient(port=port, policy=LAB, **options)  # type: ignore[arg-type]


async def probe(smtp_peer: StartSmtpPeer, script: SmtpScript, **options: object) -> SmtpProbe:
    """Start a peer following ``script`` and probe it once."""
    peer = await smtp_peer(script)
    return await client(peer.port, **options).probe(MX, SMTP_HOST)


async def test_starttls_handshake_is_recorded(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """Banner, EHLO, STARTTLS, handshake and the second EHLO are all recorded."""
    script = SmtpScript(tls=tls_context())
    result = await probe(smtp_peer, script)
    assert result.outcome is ConnectOutcome.OK, result.error
    assert (result.banner_code, result.banner) == (220, "mx.example.test ESMTP lab")
    assert result.ehlo_keywords == ("PIPELINING", "8BITMIME", "STARTTLS")
    assert result.starttls_offered is True
    assert result.starttls_reply == "220 2.0.0 Ready to start TLS"
    assert result.tls is not None
    assert result.tls.server_name == MX
    assert result.tls.version in ("TLSv1.2", "TLSv1.3")
    assert result.tls.cipher
    assert len(result.tls.chain_der) == 1
    assert result.tls_versions == (result.tls.version,)
    assert result.ehlo_keywords_after_tls == ("PIPELINING", "8BITMIME")
    assert [c.split()[0] for c in script.commands] == [b"EHLO", b"STARTTLS", b"EHLO", b"QUIT"]
    assert (result.host, result.address, result.port) == (MX, SMTP_HOST, result.port)


async def test_the_first_command_after_the_handshake_asks_for_prompt_acks(
    smtp_peer: StartSmtpPeer,
    tls_context: Callable[..., ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the EHLO that follows the TLS handshake the probe asks the kernel to acknowledge
    at once, so a server with Nagle on (Postfix) does not hold its reply behind the session
    tickets' delayed ACK (see probes.quickack); the other commands do not need it."""
    asked: list[int] = []
    original = PromptAcks.now

    def counted(self: PromptAcks) -> None:
        asked.append(1)
        original(self)

    monkeypatch.setattr(PromptAcks, "now", counted)
    script = SmtpScript(tls=tls_context())
    result = await probe(smtp_peer, script)
    assert result.outcome is ConnectOutcome.OK, result.error
    assert len(script.commands) == 4
    assert len(asked) == 1


async def test_no_starttls_is_only_a_completed_ehlo_without_it(smtp_peer: StartSmtpPeer) -> None:
    """A full EHLO reply lacking STARTTLS is the one way to get ``starttls_offered=False``."""
    script = SmtpScript(extensions=("PIPELINING", "SIZE 1000"))
    result = await probe(smtp_peer, script)
    assert result.outcome is ConnectOutcome.OK
    assert result.starttls_offered is False
    assert result.ehlo_keywords == ("PIPELINING", "SIZE")
    assert result.tls is None
    assert script.commands[-1] == b"QUIT"


async def test_starttls_answered_454_is_a_tls_failure(smtp_peer: StartSmtpPeer) -> None:
    """STARTTLS offered but refused with 454 keeps the reply and is TLS_FAILED (RFC 3207 §4)."""
    script = SmtpScript(starttls_reply=b"454 4.7.0 TLS not available due to temporary reason\r\n")
    result = await probe(smtp_peer, script)
    assert result.outcome is ConnectOutcome.TLS_FAILED
    assert result.starttls_offered is True
    assert result.starttls_reply.startswith("454 4.7.0")
    assert result.tls is None


async def test_failed_handshake_after_220_is_a_tls_failure(smtp_peer: StartSmtpPeer) -> None:
    """A server that answers 220 to STARTTLS but then does not speak TLS fails the handshake."""
    result = await probe(smtp_peer, SmtpScript(tls=None))
    assert result.outcome is ConnectOutcome.TLS_FAILED
    assert result.starttls_offered is True
    assert result.tls is None


def free_port(host: str) -> int:
    """A port on ``host`` where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_is_not_no_starttls() -> None:
    """Nothing listening is REFUSED, and STARTTLS support stays unknown."""
    result = await client(free_port(SMTP_HOST)).probe(MX, SMTP_HOST)
    assert result.outcome is ConnectOutcome.REFUSED
    assert result.starttls_offered is None


@pytest.mark.parametrize(
    ("script", "outcome", "error"),
    [
        pytest.param(
            SmtpScript(greeting=b"421 4.3.2 Service not available\r\n"),
            ConnectOutcome.REFUSED,
            "the server greeted with 421",
            id="421-greeting",
        ),
        pytest.param(
            SmtpScript(greeting=b"554 5.7.1 No SMTP service here\r\n"),
            ConnectOutcome.REFUSED,
            "the server greeted with 554",
            id="554-greeting",
        ),
        pytest.param(SmtpScript(tarpit=True), ConnectOutcome.TIMEOUT, "timed out", id="tarpit"),
        pytest.param(
            SmtpScript(endless_greeting=True),
            ConnectOutcome.PROTOCOL_ERROR,
            "reply longer than 100 lines",
            id="endless-banner",
        ),
        pytest.param(
            SmtpScript(greeting=b"220 " + b"x" * 5000 + b"\r\n"),
            ConnectOutcome.PROTOCOL_ERROR,
            "reply line longer than 2048 bytes",
            id="endless-line",
        ),
        pytest.param(
            SmtpScript(greeting=b"SSH-2.0-OpenSSH_9.2\r\n"),
            ConnectOutcome.PROTOCOL_ERROR,
            "malformed reply line",
            id="not-smtp",
        ),
        pytest.param(
            SmtpScript(ehlo_reply=b""), ConnectOutcome.TIMEOUT, "timed out", id="ehlo-unanswered"
        ),
        pytest.param(
            SmtpScript(ehlo_reply=b"550 5.7.1 Go away\r\n"),
            ConnectOutcome.PROTOCOL_ERROR,
            "EHLO was answered 550",
            id="ehlo-rejected",
        ),
        pytest.param(
            SmtpScript(ehlo_reply=b"421 4.7.0 Too many connections\r\n"),
            ConnectOutcome.REFUSED,
            "EHLO was answered 421",
            id="ehlo-421",
        ),
    ],
)
async def test_could_not_test_outcomes(
    smtp_peer: StartSmtpPeer, script: SmtpScript, outcome: ConnectOutcome, error: str
) -> None:
    """A rejecting, silent, endless or broken server is "could not test", never "no STARTTLS"."""
    result = await probe(smtp_peer, script, timeout=0.5)
    assert result.outcome is outcome
    assert error in result.error
    assert result.starttls_offered is None


async def test_drop_after_ehlo_keeps_what_ehlo_said(smtp_peer: StartSmtpPeer) -> None:
    """A server that hangs up after EHLO is a PROTOCOL_ERROR; the offer seen is kept."""
    result = await probe(smtp_peer, SmtpScript(close_after_ehlo=True))
    assert result.outcome is ConnectOutcome.PROTOCOL_ERROR
    assert result.starttls_offered is True
    assert "closed the connection" in result.error


async def test_ehlo_silence_then_drop_is_not_no_starttls(smtp_peer: StartSmtpPeer) -> None:
    """A hang-up before the EHLO reply leaves STARTTLS support unknown."""
    result = await probe(smtp_peer, SmtpScript(ehlo_reply=b"", close_after_ehlo=True))
    assert result.outcome is ConnectOutcome.PROTOCOL_ERROR
    assert result.starttls_offered is None


async def test_each_name_and_address_is_probed_once(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """Repeated and concurrent probes of one MX name and address share one conversation."""
    peer = await smtp_peer(SmtpScript(tls=tls_context()))
    smtp = client(peer.port)
    results = await asyncio.gather(*(smtp.probe(MX, SMTP_HOST) for _ in range(4)))
    again = await smtp.probe("MX.Example.TEST.", SMTP_HOST)
    assert peer.connections == 1
    assert {r.outcome for r in (*results, again)} == {ConnectOutcome.OK}


async def test_one_connection_at_a_time_per_address(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """Several MX names on one address are probed one after another, not at once."""
    peer = await smtp_peer(SmtpScript(tls=tls_context()))
    smtp = client(peer.port)
    names = [f"mx{i}.example.test" for i in range(4)]
    results = await asyncio.gather(*(smtp.probe(name, SMTP_HOST) for name in names))
    assert [r.tls.server_name if r.tls else None for r in results] == names
    assert peer.connections == 4
    assert peer.max_active == 1


async def test_connections_per_address_are_bounded_by_the_setting(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """With ``per_address=3``, six MX names on one address are probed three at a time."""
    peer = await smtp_peer(SmtpScript(tls=tls_context()))
    smtp = client(peer.port, per_address=3)
    names = [f"mx{i}.example.test" for i in range(6)]
    results = await asyncio.gather(*(smtp.probe(name, SMTP_HOST) for name in names))
    assert {r.outcome for r in results} == {ConnectOutcome.OK}
    assert peer.connections == 6
    assert peer.max_active == 3


async def test_guard_keeps_the_probe_off_loopback(canary: Canary) -> None:
    """Without lab mode an MX address on loopback is BLOCKED and the canary hears nothing."""
    result = await SmtpClient(port=canary.port).probe(MX, "127.0.0.1")
    assert result.outcome is ConnectOutcome.BLOCKED
    assert "loopback" in result.error
    assert canary.connections == 0


async def test_guard_refuses_non_addresses(canary: Canary) -> None:
    """A name instead of an address is refused: the probe never resolves by itself."""
    result = await SmtpClient(port=canary.port, policy=LAB).probe(MX, "localhost")
    assert result.outcome is ConnectOutcome.BLOCKED
    assert canary.connections == 0


async def test_legacy_tls_probe_records_old_versions_accepted(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """With the legacy probe on, a server still accepting TLS 1.1 shows it in ``tls_versions``."""
    context = tls_context(minimum=ssl.TLSVersion.TLSv1)
    peer = await smtp_peer(SmtpScript(tls=context))
    result = await client(peer.port, probe_legacy_tls=True).probe(MX, SMTP_HOST)
    assert result.tls is not None
    if peer.connections == 2 and len(result.tls_versions) == 1:
        pytest.skip("this OpenSSL cannot speak TLS 1.1 even at security level 0")
    assert result.tls_versions == (result.tls.version, "TLSv1.1")


async def test_legacy_tls_probe_on_a_modern_server(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """A server refusing TLS 1.1 keeps one version listed; the main result is untouched."""
    peer = await smtp_peer(SmtpScript(tls=tls_context(minimum=ssl.TLSVersion.TLSv1_2)))
    result = await client(peer.port, probe_legacy_tls=True).probe(MX, SMTP_HOST)
    assert result.outcome is ConnectOutcome.OK
    assert result.tls is not None
    assert result.tls_versions == (result.tls.version,)
    assert peer.connections == 2


async def test_legacy_tls_probe_is_off_by_default(
    smtp_peer: StartSmtpPeer, tls_context: Callable[..., ssl.SSLContext]
) -> None:
    """By default one conversation per address, no second handshake."""
    peer = await smtp_peer(SmtpScript(tls=tls_context()))
    await client(peer.port).probe(MX, SMTP_HOST)
    assert peer.connections == 1
