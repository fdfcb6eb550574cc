"""One SMTP server conversation (RFC 5321) with optional STARTTLS (RFC 3207), as the lab's MX hosts
speak it: any sender and any recipient are accepted and each message is handed to a callback.

The greeting is not sent here: the MX host decides when (tarpit) and whether (421) to greet.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as the lab MX received it: envelope, data (dot-unstuffed), connection facts."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: str
    helo: str
    tls_version: str | None  # e.g. "TLSv1.3"; None when the message came in plaintext


MessageCallback = Callable[[ReceivedMessage], Awaitable[None] | None]


@dataclass(frozen=True)
class SmtpConfig:
    """What a conversation offers: its name, STARTTLS (advertised, and the context to run it)."""

    hostname: str
    advertise_starttls: bool
    tls: ssl.SSLContext | None  # None while advertised: STARTTLS is answered 454
    on_message: MessageCallback | None = None
    max_message_size: int = 10 * 1024 * 1024
    idle_timeout: float = 300.0  # RFC 5321 §4.5.3.2.7: a server waits 5 minutes per command


@dataclass
class _Transaction:
    mail_from: str | None = None
    rcpt_tos: list[str] = field(default_factory=list)


def split_command(line: bytes) -> tuple[str, str]:
    """The upper-cased verb and the rest of a command line, CRLF stripped (RFC 5321 §4.1.1)."""
    text = line.rstrip(b"\r\n").decode("utf-8", "replace")
    verb, _, argument = text.partition(" ")
    return verb.upper(), argument.strip()


def parse_path(argument: str, keyword: str) -> str | None:
    """The address in ``FROM:<addr> params`` / ``TO:<addr>`` (RFC 5321 §4.1.2), or None."""
    if argument[: len(keyword) + 1].upper() != f"{keyword}:":
        return None
    rest = argument[len(keyword) + 1 :].lstrip()
    if rest.startswith("<"):
        end = rest.find(">")
        return None if end < 0 else rest[1:end]
    token = rest.split(" ", 1)[0]
    return token or None


def dot_unstuff(line: bytes) -> bytes:
    """A DATA line with its transparency dot removed (RFC 5321 §4.5.2)."""
    return line[1:] if line.startswith(b".") else line


class SmtpSession:
    """Serves SMTP commands on one connection until QUIT, EOF or an idle timeout."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, config: SmtpConfig
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._config = config
        self._peer = str((writer.get_extra_info("peername") or ("?",))[0])
        self._helo: str | None = None
        self._tx = _Transaction()
        self._tls_version: str | None = None
        self._commands: dict[str, Callable[[str], Awaitable[bool]]] = {
            "EHLO": self._ehlo,
            "HELO": self._helo_cmd,
            "STARTTLS": self._starttls,
            "MAIL": self._mail,
            "RCPT": self._rcpt,
            "DATA": self._data,
            "RSET": self._rset,
            "NOOP": self._noop,
            "VRFY": self._vrfy,
            "QUIT": self._quit,
        }

    async def run(self) -> None:
        """Answer commands until the client quits or goes away."""
        while True:
            line = await self._read_line()
            if line is None:
                return
            verb, argument = split_command(line)
            command = self._commands.get(verb)
            if command is None:
                await self.reply(500, "5.5.2 Command not recognized")
            elif not await command(argument):
                return

    async def reply(self, code: int, *lines: str) -> None:
        """Send a (possibly multi-line) reply, RFC 5321 §4.2.1."""
        texts = lines or ("",)
        out = [f"{code}-{text}\r\n" for text in texts[:-1]] + [f"{code} {texts[-1]}\r\n"]
        self._writer.write("".join(out).encode())
        await self._writer.drain()

    async def _read_line(self) -> bytes | None:
        try:
            async with asyncio.timeout(self._config.idle_timeout):
                return await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except TimeoutError:
            await self.reply(421, f"4.4.2 {self._config.hostname} idle too long, closing")
            return None
        except asyncio.LimitOverrunError:
            await self.reply(500, "5.5.6 Line too long")
            return None

    async def _ehlo(self, argument: str) -> bool:
        if not argument:
            await self.reply(501, "5.5.4 EHLO needs a domain or address literal")
            return True
        self._helo, self._tx = argument, _Transaction()
        extensions = [
            f"SIZE {self._config.max_message_size}",
            "8BITMIME",
            "PIPELINING",
            "ENHANCEDSTATUSCODES",  # RFC 2034: the x.y.z codes our replies carry
        ]
        # RFC 3207 §4.2: STARTTLS is not offered again once TLS is running.
        if self._config.advertise_starttls and self._tls_version is None:
            extensions.append("STARTTLS")
        await self.reply(250, f"{self._config.hostname} Hello {argument}", *extensions)
        return True

    async def _helo_cmd(self, argument: str) -> bool:
        if not argument:
            await self.reply(501, "5.5.4 HELO needs a domain")
            return True
        self._helo, self._tx = argument, _Transaction()
        await self.reply(250, self._config.hostname)
        return True

    async def _starttls(self, argument: str) -> bool:
        # RFC 3207 §4: no parameters; 454 when TLS is temporarily unavailable.
        if argument:
            await self.reply(501, "5.5.4 Syntax error (no parameters allowed)")
        elif self._tls_version is not None:
            await self.reply(503, "5.5.1 TLS already active")
        elif not self._config.advertise_starttls:
            await self.reply(502, "5.5.1 STARTTLS not offered")
        elif self._config.tls is None:
            await self.reply(454, "4.7.0 TLS not available due to temporary reason")
        else:
            await self.reply(220, "2.0.0 Ready to start TLS")
            await self._writer.start_tls(self._config.tls)
            ssl_object = self._writer.get_extra_info("ssl_object")
            self._tls_version = ssl_object.version() if ssl_object else "unknown"
            # RFC 3207 §4.2: forget everything learnt before the handshake; EHLO again.
            self._helo, self._tx = None, _Transaction()
        return True

    async def _mail(self, argument: str) -> bool:
        address = parse_path(argument, "FROM")
        if self._helo is None:
            await self.reply(503, "5.5.1 Send EHLO first")
        elif self._tx.mail_from is not None:
            await self.reply(503, "5.5.1 Nested MAIL command")
        elif address is None:
            await self.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
        else:
            self._tx.mail_from = address
            await self.reply(250, "2.1.0 OK")
        return True

    async def _rcpt(self, argument: str) -> bool:
        address = parse_path(argument, "TO")
        if self._tx.mail_from is None:
            await self.reply(503, "5.5.1 Need MAIL before RCPT")
        elif not address:
            await self.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
        else:
            self._tx.rcpt_tos.append(address)
            await self.reply(250, "2.1.5 OK")
        return True

    async def _data(self, argument: str) -> bool:
        if not self._tx.rcpt_tos:
            await self.reply(503, "5.5.1 Need RCPT before DATA")
            return True
        await self.reply(354, "End data with <CR><LF>.<CR><LF>")
        received = await self._read_data()
        if received is None:
            return False
        data, size = received
        if size > self._config.max_message_size:
            await self.reply(552, "5.3.4 Message too big")
        else:
            await self._deliver(data)
        self._tx = _Transaction()
        return True

    async def _read_data(self) -> tuple[bytes, int] | None:
        """The message up to the lone dot, and its size; past the limit lines are read, not kept."""
        chunks: list[bytes] = []
        size = 0
        while True:
            line = await self._read_line()
            if line is None:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(chunks), size
            size += len(line)
            if size <= self._config.max_message_size:
                chunks.append(dot_unstuff(line))

    async def _deliver(self, data: bytes) -> None:
        message = ReceivedMessage(
            mail_from=self._tx.mail_from or "",
            rcpt_tos=tuple(self._tx.rcpt_tos),
            data=data,
            peer=self._peer,
            helo=self._helo or "",
            tls_version=self._tls_version,
        )
        try:
            if self._config.on_message is not None:
                result = self._config.on_message(message)
                if inspect.isawaitable(result):
                    await result
        except Exception:
            log.exception("lab MX message callback failed")
            await self.reply(451, "4.3.0 Message callback failed")
            return
        await self.reply(250, "2.0.0 OK: queued")

    async def _rset(self, argument: str) -> bool:
        self._tx = _Transaction()
        await self.reply(250, "2.0.0 OK")
        return True

    async def _noop(self, argument: str) -> bool:
        await self.reply(250, "2.0.0 OK")
        return True

    async def _vrfy(self, argument: str) -> bool:
        await self.reply(252, "2.5.0 Cannot VRFY user, but will accept message")
        return True

    async def _quit(self, argument: str) -> bool:
        await self.reply(221, f"2.0.0 {self._config.hostname} closing connection")
        return False
