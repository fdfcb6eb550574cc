"""In-test peers for the HTTPS and SMTP probes: a TLS web server, an SMTP server with STARTTLS
variants, a canary that counts connections, and a fixed DNS lookup."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from mailshield.core.observations import DnsAnswer, DnsOutcome
from mailshield.core.smtp_reply import render_reply
from mailshield.lab.ca import IssuedCert


def server_context(
    cert: IssuedCert,
    folder: Path,
    *,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server context presenting ``cert`` (its full chain), optionally version-limited."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    crt, key = cert.write(folder, f"server-{id(cert)}")
    context.load_cert_chain(crt, key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.0/1.1 is deprecated
        if minimum is not None:
            context.set_ciphers("ALL:@SECLEVEL=0")
            context.minimum_version = minimum
        if maximum is not None:
            context.maximum_version = maximum
    return context


class _Server:
    """A TCP (optionally TLS) server that counts connections and cancels handlers on close."""

    host: str

    def __init__(self, host: str, tls: ssl.SSLContext | None = None) -> None:
        self.host, self._tls = host, tls
        self.port = 0
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.stopping = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> _Server:
        self._server = await asyncio.start_server(self._accept, self.host, 0, ssl=self._tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening, end every conversation and wait for the handlers to finish."""
        if self._server is not None:
            self._server.close()
        self.stopping.set()
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
                await self.serve(reader, writer)
        finally:
            self.active -= 1
            writer.transport.abort()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Talk to one client (subclasses)."""


class Canary(_Server):
    """Listens and counts; the probes must never reach it without lab mode."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)


Respond = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


def http_response(status: str, body: bytes = b"", *headers: str) -> bytes:
    """A whole HTTP/1.1 response with Content-Length."""
    head = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode() + body


def static(response: bytes) -> Respond:
    """Answers every request with ``response``."""

    async def respond(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(response)
        await writer.drain()

    return respond


class HttpsPeer(_Server):
    """A TLS web server: records each request head, answers through ``respond``."""

    def __init__(self, respond: Respond, tls: ssl.SSLContext | None, host: str) -> None:
        super().__init__(host, tls)
        self._respond = respond
        self.requests: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        await self._respond(head, writer)


@dataclass
class SmtpScript:
    """How the SMTP peer behaves."""

    greeting: bytes = b"220 mx.example.test ESMTP lab\r\n"
    tarpit: bool = False  # never greet
    endless_greeting: bool = False  # "220-" continuation lines forever
    extensions: tuple[str, ...] = ("PIPELINING", "8BITMIME", "STARTTLS")
    ehlo_reply: bytes | None = None  # overrides the EHLO reply
    starttls_reply: bytes = b"220 2.0.0 Ready to start TLS\r\n"
    close_after_ehlo: bool = False
    tls: ssl.SSLContext | None = None
    commands: list[bytes] = field(default_factory=list)


class SmtpPeer(_Server):
    """An SMTP server following a :class:`SmtpScript`."""

    def __init__(self, script: SmtpScript, host: str) -> None:
        super().__init__(host)
        self.script = script

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script = self.script
        if script.tarpit:
            await self.stopping.wait()
            return
        while script.endless_greeting and not self.stopping.is_set():
            writer.write(b"220-" + b"x" * 60 + b"\r\n")
            await writer.drain()
        writer.write(script.greeting)
        await writer.drain()
        if not script.greeting.startswith(b"220"):
            return
        await self._commands(reader, writer)

    async def _commands(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script, tls_active = self.script, False
        while line := await reader.readline():
            command = line.strip().upper()
            script.commands.append(command)
            if command.startswith(b"EHLO"):
                writer.write(self._ehlo(tls_active))
                if script.close_after_ehlo:
                    await writer.drain()
                    return
            elif command == b"STARTTLS":
                writer.write(script.starttls_reply)
                await writer.drain()
                if script.starttls_reply.startswith(b"220") and script.tls is not None:
                    await writer.start_tls(script.tls)
                    tls_active = True
                elif script.starttls_reply.startswith(b"220"):
                    writer.write(b"this is not TLS\r\n")
            elif command == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 5.5.2 Command not recognised\r\n")
            await writer.drain()

    def _ehlo(self, tls_active: bool) -> bytes:
        if self.script.ehlo_reply is not None:
            return self.script.ehlo_reply
        extensions = [e for e in self.script.extensions if not (tls_active and e == "STARTTLS")]
        return render_reply(250, ["mx.example.test", *extensions])


@dataclass
class StaticLookup:
    """A DNS lookup from a table: name -> addresses; names in ``failing`` time out."""

    addresses: dict[str, list[str]]
    failing: set[str] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        self.asked.append((name, rdtype))
        if name in self.failing:
            return DnsAnswer(name, rdtype, DnsOutcome.TIMEOUT, detail="no answer")
        found = tuple(a for a in self.addresses.get(name, []) if (":" in a) == (rdtype == "AAAA"))
        if name not in self.addresses:
            return DnsAnswer(name, rdtype, DnsOutcome.NXDOMAIN)
        return DnsAnswer(name, rdtype, DnsOutcome.OK if found else DnsOutcome.NODATA, found)


HTTPS_HOST = "127.0.4.2"
SMTP_HOST = "127.0.4.3"

StartHttpsPeer = Callable[..., Awaitable[HttpsPeer]]  # the ``https_peer`` fixture
StartSmtpPeer = Callable[[SmtpScript], Awaitable[SmtpPeer]]  # the ``smtp_peer`` fixture
