"""The lab MX host: every behaviour as a plain smtplib / ssl client sees it, connecting by IP."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
import ssl
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from mailshield.lab import tls
from mailshield.lab.behaviours import MxBehaviour
from mailshield.lab.ca import LabCA
from mailshield.lab.mx_host import LabMxServer, LabUnsupported, ReceivedMessage
from mailshield.lab.tls import BehaviourCertificates

ADDRESS = "127.0.2.1"
NAME = "mx.a.test"
SHORT = 0.3  # seconds a client waits for something that must not come


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture(scope="module")
def ca_file(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ca.write_root(tmp_path_factory.mktemp("mx-ca") / "ca.pem")


@pytest.fixture(scope="module")
def certs(ca: LabCA) -> BehaviourCertificates:
    return BehaviourCertificates(ca)


@asynccontextmanager
async def mx(
    certs: BehaviourCertificates,
    behaviour: MxBehaviour,
    *,
    names: tuple[str, ...] = (NAME,),
    address: str = ADDRESS,
    port: int = 0,
    **options: Any,
) -> AsyncIterator[LabMxServer]:
    """A started MX host with the certificate its behaviour calls for."""
    server = LabMxServer(
        address, names, behaviour, certificate=certs.for_mx(behaviour, names), port=port, **options
    )
    async with server:
        yield server


def connect(server: LabMxServer, name: str = NAME, timeout: float = 10.0) -> smtplib.SMTP:
    """An smtplib client connected by IP that verifies certificates against ``name``."""
    client = smtplib.SMTP(timeout=timeout)
    client.connect(server.address, server.port)
    client._host = name  # type: ignore[attr-defined]  # smtplib's SNI / hostname-verification name after STARTTLS
    return client


def starttls_version(server: LabMxServer, ca_file: Path, name: str = NAME) -> str | None:
    """EHLO + STARTTLS with a verifying client; the negotiated TLS version."""
    with connect(server, name) as client:
        client.starttls(context=ssl.create_default_context(cafile=ca_file))
        version = client.sock.version() if isinstance(client.sock, ssl.SSLSocket) else None
        client.ehlo()
        assert not client.has_extn("starttls")
        return version


def old_tls_client() -> ssl.SSLContext:
    """A client that accepts TLS 1.0/1.1 (and does not verify, the version is the point)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    return context


async def test_valid_offers_starttls_with_modern_tls(
    certs: BehaviourCertificates, ca_file: Path
) -> None:
    """A valid host advertises STARTTLS and completes a verified TLS 1.2+ handshake."""
    async with mx(certs, MxBehaviour.VALID) as server:
        version = await asyncio.to_thread(starttls_version, server, ca_file)
    assert version in {"TLSv1.2", "TLSv1.3"}


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        pytest.param(MxBehaviour.EXPIRED, "certificate has expired", id="expired"),
        pytest.param(MxBehaviour.NOT_YET_VALID, "certificate is not yet valid", id="not-yet-valid"),
        pytest.param(MxBehaviour.WRONG_NAME, "Hostname mismatch", id="wrong-name"),
        pytest.param(MxBehaviour.SELF_SIGNED, "self-signed certificate", id="self-signed"),
        pytest.param(
            MxBehaviour.UNTRUSTED_CA, "unable to get local issuer certificate", id="untrusted-ca"
        ),
    ],
)
async def test_certificate_faults_fail_verification(
    certs: BehaviourCertificates, ca_file: Path, behaviour: MxBehaviour, message: str
) -> None:
    """Each certificate behaviour fails a verifying client's STARTTLS with its own reason."""
    async with mx(certs, behaviour) as server:
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            await asyncio.to_thread(starttls_version, server, ca_file)
    assert message in str(caught.value.verify_message)


async def test_one_host_serves_many_names(certs: BehaviourCertificates, ca_file: Path) -> None:
    """One address and port serve many MX names through one certificate with a SAN for each."""
    names = tuple(f"mx.d{index:04d}.test" for index in range(1, 201))
    async with mx(certs, MxBehaviour.VALID, names=names) as server:
        for name in (names[0], names[137], names[-1]):
            version = await asyncio.to_thread(starttls_version, server, ca_file, name)
            assert version in {"TLSv1.2", "TLSv1.3"}


async def test_valid_listens_on_ipv6_loopback(certs: BehaviourCertificates, ca_file: Path) -> None:
    """A host bound to ::1 serves STARTTLS like one on IPv4."""
    async with mx(certs, MxBehaviour.VALID, address="::1") as server:
        version = await asyncio.to_thread(starttls_version, server, ca_file)
    assert version in {"TLSv1.2", "TLSv1.3"}


def test_tls_old_is_possible_here() -> None:
    """The local OpenSSL negotiates TLS 1.0/1.1 at @SECLEVEL=0 (so tls_old is really tested)."""
    assert tls.old_tls_supported()


async def test_tls_old_refuses_modern_clients(certs: BehaviourCertificates, ca_file: Path) -> None:
    """A default (TLS 1.2+) client cannot complete STARTTLS with a tls_old host.

    asyncio drops the server's protocol_version alert when the handshake fails, so the client
    sees the connection end rather than the alert.
    """
    async with mx(certs, MxBehaviour.TLS_OLD) as server:
        with pytest.raises(ssl.SSLError) as caught:
            await asyncio.to_thread(starttls_version, server, ca_file)
    assert not isinstance(caught.value, ssl.SSLCertVerificationError)


async def test_tls_old_speaks_tls_1_0_or_1_1(certs: BehaviourCertificates) -> None:
    """A client that allows old versions negotiates TLS 1.1 at most."""

    def negotiate(server: LabMxServer) -> str | None:
        with connect(server) as client:
            client.starttls(context=old_tls_client())
            return client.sock.version() if isinstance(client.sock, ssl.SSLSocket) else None

    async with mx(certs, MxBehaviour.TLS_OLD) as server:
        version = await asyncio.to_thread(negotiate, server)
    assert version in {"TLSv1", "TLSv1.1"}


def test_tls_old_without_openssl_support_is_a_clear_error(
    certs: BehaviourCertificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where OpenSSL cannot do TLS 1.0/1.1, building a tls_old host raises LabUnsupported."""
    monkeypatch.setattr(tls, "old_tls_supported", lambda: False)
    with pytest.raises(LabUnsupported, match=r"TLS 1\.0/1\.1"):
        LabMxServer(ADDRESS, (NAME,), MxBehaviour.TLS_OLD, certificate=certs.ca.issue(NAME), port=0)


async def test_no_starttls_is_not_advertised(certs: BehaviourCertificates) -> None:
    """EHLO does not list STARTTLS, and the command itself is rejected."""

    def probe(server: LabMxServer) -> tuple[bool, int]:
        with connect(server) as client:
            client.ehlo()
            return client.has_extn("starttls"), client.docmd("STARTTLS")[0]

    async with mx(certs, MxBehaviour.NO_STARTTLS) as server:
        advertised, code = await asyncio.to_thread(probe, server)
    assert (advertised, code) == (False, 502)


async def test_starttls_fails_with_454(certs: BehaviourCertificates, ca_file: Path) -> None:
    """STARTTLS is advertised but answered 454, which smtplib reports as a response error."""
    async with mx(certs, MxBehaviour.STARTTLS_FAILS) as server:
        with pytest.raises(smtplib.SMTPResponseException) as caught:
            await asyncio.to_thread(starttls_version, server, ca_file)
    assert caught.value.smtp_code == 454


async def test_refused_does_not_listen(certs: BehaviourCertificates) -> None:
    """A refused host starts without listening, so connecting is refused."""
    async with mx(certs, MxBehaviour.REFUSED, address="127.0.2.99", port=2525) as server:
        assert not server.listening
        with pytest.raises(ConnectionRefusedError):
            await asyncio.to_thread(socket.create_connection, ("127.0.2.99", 2525), SHORT)


async def test_tarpit_sends_no_banner_within_a_client_timeout(
    certs: BehaviourCertificates,
) -> None:
    """A client with a short timeout sees no banner from a tarpit."""

    def read_banner(server: LabMxServer) -> bytes:
        with socket.create_connection((server.address, server.port), timeout=SHORT) as sock:
            return sock.recv(100)

    async with mx(certs, MxBehaviour.TARPIT, tarpit_delay=3600) as server:
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(read_banner, server)


async def test_tarpit_greets_after_its_delay(certs: BehaviourCertificates, ca_file: Path) -> None:
    """After the delay a tarpit greets and then behaves like a valid host."""
    async with mx(certs, MxBehaviour.TARPIT, tarpit_delay=0.05) as server:
        version = await asyncio.to_thread(starttls_version, server, ca_file)
    assert version in {"TLSv1.2", "TLSv1.3"}


async def test_greeting_421_is_seen_by_smtplib(certs: BehaviourCertificates) -> None:
    """smtplib refuses the connection because of the 421 greeting."""
    async with mx(certs, MxBehaviour.GREETING_421) as server:
        with pytest.raises(smtplib.SMTPConnectError) as caught:
            await asyncio.to_thread(smtplib.SMTP, server.address, server.port, timeout=10)
    assert caught.value.smtp_code == 421


async def test_endless_banner_never_sends_its_last_line(certs: BehaviourCertificates) -> None:
    """An endless banner keeps sending 220- continuation lines and never a final 220 line."""
    async with mx(certs, MxBehaviour.ENDLESS_BANNER) as server:
        reader, writer = await asyncio.open_connection(server.address, server.port)
        lines = [await reader.readline() for _ in range(500)]
        writer.close()
        await writer.wait_closed()
    assert all(line.startswith(b"220-") and line.endswith(b"\r\n") for line in lines)


async def test_received_messages_reach_the_callback(
    certs: BehaviourCertificates, ca_file: Path
) -> None:
    """A message sent over STARTTLS reaches the callback with envelope, bytes and TLS version."""
    received: list[ReceivedMessage] = []
    body = b"Subject: report\r\n\r\n.leading dot\r\nline two\r\n"

    def send(server: LabMxServer) -> None:
        with connect(server) as client:
            client.starttls(context=ssl.create_default_context(cafile=ca_file))
            client.sendmail("tlsrpt@sender.test", ["a@a.test", "b@a.test"], body)

    async with mx(certs, MxBehaviour.VALID, on_message=received.append) as server:
        await asyncio.to_thread(send, server)
    [message] = received
    assert (message.mail_from, message.rcpt_tos) == ("tlsrpt@sender.test", ("a@a.test", "b@a.test"))
    assert message.data == body
    assert message.tls_version in {"TLSv1.2", "TLSv1.3"}
    assert message.peer == "127.0.0.1" or message.peer.startswith("127.")


async def test_async_callback_is_awaited(certs: BehaviourCertificates) -> None:
    """An async callback is awaited before the message is acknowledged."""
    queue: asyncio.Queue[ReceivedMessage] = asyncio.Queue()

    def send(server: LabMxServer) -> None:
        with connect(server) as client:
            client.sendmail("a@b.test", ["c@d.test"], b"Subject: x\r\n\r\nplain\r\n")

    async with mx(certs, MxBehaviour.NO_STARTTLS, on_message=queue.put) as server:
        await asyncio.to_thread(send, server)
    message = queue.get_nowait()
    assert (message.rcpt_tos, message.tls_version) == (("c@d.test",), None)


def conversation(commands: list[bytes]) -> Callable[[LabMxServer], list[int]]:
    """A raw client that sends each command line and collects the reply codes (banner first)."""

    def run(server: LabMxServer) -> list[int]:
        with connect(server) as client:
            codes = []
            for command in commands:
                client.send(command + b"\r\n")
                codes.append(client.getreply()[0])
            return codes

    return run


@pytest.mark.parametrize(
    ("commands", "codes"),
    [
        pytest.param([b"MAIL FROM:<a@b.test>"], [503], id="mail-before-ehlo"),
        pytest.param([b"EHLO c.test", b"RCPT TO:<a@b.test>"], [250, 503], id="rcpt-before-mail"),
        pytest.param(
            [b"EHLO c.test", b"MAIL FROM:<a@b.test>", b"DATA"],
            [250, 250, 503],
            id="data-before-rcpt",
        ),
        pytest.param([b"EHLO c.test", b"MAIL FROM:broken"], [250, 250], id="bare-path-accepted"),
        pytest.param([b"EHLO c.test", b"MAIL TO:<a@b.test>"], [250, 501], id="mail-syntax"),
        pytest.param([b"EHLO"], [501], id="ehlo-needs-domain"),
        pytest.param([b"BOGUS"], [500], id="unknown-command"),
        pytest.param([b"EHLO c.test", b"STARTTLS now"], [250, 501], id="starttls-no-params"),
        pytest.param([b"NOOP", b"VRFY x", b"RSET", b"QUIT"], [250, 252, 250, 221], id="misc"),
    ],
)
async def test_command_sequence_replies(
    certs: BehaviourCertificates, commands: list[bytes], codes: list[int]
) -> None:
    """Commands out of order or malformed get the RFC 5321 §4.3.2 reply codes."""
    async with mx(certs, MxBehaviour.VALID) as server:
        assert await asyncio.to_thread(conversation(commands), server) == codes


async def test_oversize_message_is_refused(certs: BehaviourCertificates) -> None:
    """A message over the size limit is answered 552 and not delivered."""
    received: list[ReceivedMessage] = []

    def send(server: LabMxServer) -> None:
        with connect(server) as client:
            client.sendmail("a@b.test", ["c@d.test"], b"x" * 2000)

    async with mx(
        certs, MxBehaviour.NO_STARTTLS, on_message=received.append, max_message_size=1000
    ) as server:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            await asyncio.to_thread(send, server)
    assert (caught.value.smtp_code, received) == (552, [])


async def test_stop_closes_open_conversations(
    certs: BehaviourCertificates, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping a host ends open sessions cleanly: a waiting client sees the connection close."""
    async with mx(certs, MxBehaviour.VALID) as server:
        client = await asyncio.to_thread(connect, server)
    with client, pytest.raises(smtplib.SMTPServerDisconnected):
        await asyncio.to_thread(client.ehlo)
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_stop_ends_a_tarpit(
    certs: BehaviourCertificates, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping a tarpit ends the waiting connection at once and logs no error."""
    async with mx(certs, MxBehaviour.TARPIT, tarpit_delay=3600) as server:
        sock = await asyncio.to_thread(socket.create_connection, (server.address, server.port), 10)
    with sock:
        assert await asyncio.to_thread(sock.recv, 100) == b""
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_tls_behaviour_without_certificate_is_rejected() -> None:
    """A TLS behaviour built without a certificate fails at construction, naming the behaviour."""
    with pytest.raises(ValueError, match="expired"):
        LabMxServer(ADDRESS, (NAME,), MxBehaviour.EXPIRED, port=0)
