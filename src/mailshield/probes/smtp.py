"""The SMTP probe: banner, EHLO, STARTTLS, handshake, EHLO again, QUIT — against one MX address.

Outcomes keep "could not test" apart from findings (RFC 3207, RFC 5321):

- guard refused the address → BLOCKED; connection refused/unreachable → REFUSED;
  no reply in time (tarpit) → TIMEOUT;
- a 4xx/5xx greeting → REFUSED with ``banner_code`` set (the server turned us away);
- broken replies, a bound exceeded (endless banner), a drop or an EHLO that is not 250 →
  PROTOCOL_ERROR (421 to EHLO → REFUSED); ``starttls_offered`` stays ``None`` unless an EHLO
  reply was read in full;
- a completed EHLO without STARTTLS → OK with ``starttls_offered=False`` (the only way to get it);
- STARTTLS answered other than 220 (e.g. 454) → TLS_FAILED with ``starttls_reply``;
  a failed handshake → TLS_FAILED;
- a completed handshake → ``tls`` recorded (unverified chain, version, cipher), then EHLO again.

Each (MX name, address) is probed once per client: the SNI is part of what is tested, so two MX
names on one address are two probes, but a semaphore per address keeps at most
``per_address`` connections open to it at once.

Old TLS versions: learning whether a server still accepts TLS 1.0/1.1 costs a second full SMTP
conversation (connect, banner, EHLO, STARTTLS), which servers count against rate limits and
tarpits can make slow. It is off by default (``probe_legacy_tls``); when on, it runs only after
a TLS 1.2+ handshake succeeded, offering at most TLS 1.1. ``tls_versions`` lists the versions seen
accepted: the negotiated one, plus the legacy one when that probe succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass, replace

from mailshield.core.observations import ConnectOutcome, SmtpProbe, TlsSession
from mailshield.core.smtp_reply import ReplyError, ReplyReader, SmtpReply, parse_ehlo
from mailshield.probes.failures import Phase, ProtocolViolation, outcome_for
from mailshield.probes.net_policy import PUBLIC_ONLY, AddressPolicy, parse_address
from mailshield.probes.once import OnceMemo
from mailshield.probes.quickack import PromptAcks
from mailshield.probes.tls import session_of, unverified_context

__all__ = ["SmtpClient"]

READ_SIZE = 64 * 1024
QUIT_WAIT = 1.0  # seconds to wait for the reply to QUIT, after the probe's own deadline


class _Stop(Exception):
    """The conversation ended early with a known outcome (not a library error)."""

    def __init__(self, outcome: ConnectOutcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@dataclass
class _Progress:
    """What the conversation has learnt so far; kept when a later step fails."""

    phase: Phase = Phase.CONNECT
    banner: SmtpReply | None = None
    ehlo_keywords: tuple[str, ...] = ()
    ehlo_keywords_after_tls: tuple[str, ...] = ()
    starttls_offered: bool | None = None
    starttls_reply: str = ""
    tls: TlsSession | None = None
    can_quit: bool = False  # the server is waiting for a command


class _Session:
    """Commands out, whole replies in, over one stream."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, replies: ReplyReader
    ) -> None:
        self.reader, self.writer, self._replies = reader, writer, replies
        self._acks = PromptAcks(writer)

    async def reply(self) -> SmtpReply:
        while True:
            reply = self._replies.next_reply()
            if isinstance(reply, SmtpReply):
                return reply
            if isinstance(reply, ReplyError):
                raise ProtocolViolation(reply.reason)
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise ProtocolViolation("the server closed the connection")
            self._replies.feed(data)

    async def command(self, line: str, *, ack_at_once: bool = False) -> SmtpReply:
        """Send ``line`` and read the reply. ``ack_at_once``: the server may have sent data
        unasked (TLS 1.3 session tickets), whose delayed ACK would hold the reply (see
        :mod:`mailshield.probes.quickack`)."""
        self.writer.write(line.encode("ascii") + b"\r\n")
        if ack_at_once:
            self._acks.now()
        await self.writer.drain()
        return await self.reply()

    def discard_buffered(self) -> None:
        self._replies.discard_buffered()


class SmtpClient:
    """Probes MX addresses for STARTTLS, implementing ``services.ports.SmtpProber``."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        port: int = 25,
        policy: AddressPolicy = PUBLIC_ONLY,
        helo_name: str = "mailshield.invalid",
        per_address: int = 1,
        probe_legacy_tls: bool = False,
        max_line_length: int = 2048,
        max_reply_lines: int = 100,
    ) -> None:
        self._timeout = timeout
        self._port = port
        self._policy = policy
        self._helo_name = helo_name
        self._probe_legacy_tls = probe_legacy_tls
        self._bounds = {"max_line_length": max_line_length, "max_lines": max_reply_lines}
        self._context = unverified_context()
        self._legacy_context = unverified_context(max_version=ssl.TLSVersion.TLSv1_1)
        self._per_address: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_address)
        )
        self._memo: OnceMemo[tuple[str, str], SmtpProbe] = OnceMemo()

    async def probe(self, host: str, address: str) -> SmtpProbe:
        """The STARTTLS picture of ``address`` with SNI ``host``; asked once per client."""
        host = host.strip().rstrip(".").lower()
        address = _normalise(address)
        return await self._memo.get((host, address), lambda: self._probe(host, address))

    async def _probe(self, host: str, address: str) -> SmtpProbe:
        refusal = self._policy.refusal(address)
        if refusal is not None:
            reason = f"not a public address: {address} ({refusal})"
            return SmtpProbe(host, address, self._port, ConnectOutcome.BLOCKED, error=reason)
        async with self._per_address[address]:
            probe = await self._conversation(host, address, self._context)
            if self._probe_legacy_tls and probe.tls and probe.tls.version in _MODERN:
                legacy = await self._conversation(host, address, self._legacy_context)
                extra = (legacy.tls.version,) if legacy.tls else ()
                probe = replace(probe, tls_versions=probe.tls_versions + extra)
            return probe

    async def _conversation(self, host: str, address: str, context: ssl.SSLContext) -> SmtpProbe:
        started = time.monotonic()
        progress = _Progress()
        session: _Session | None = None
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await asyncio.open_connection(address, self._port)
                session = _Session(reader, writer, ReplyReader(**self._bounds))
                progress.phase = Phase.TALK
                await self._talk(session, host, context, progress)
            outcome, error = ConnectOutcome.OK, ""
        except _Stop as stop:
            outcome, error = stop.outcome, stop.reason
        except Exception as exc:  # translated, never raised: see probes.failures
            outcome, error = outcome_for(exc, progress.phase)
            progress.can_quit = False
        if session is not None:
            await _close(session, progress.can_quit)
        return _observation(host, address, self._port, progress, outcome, error, started)

    async def _talk(
        self, session: _Session, host: str, context: ssl.SSLContext, progress: _Progress
    ) -> None:
        banner = progress.banner = await session.reply()
        progress.can_quit = True
        if banner.code != 220:  # RFC 5321 §3.1: 554 (or 421) means "go away"
            raise _Stop(ConnectOutcome.REFUSED, f"the server greeted with {banner}")
        ehlo = await self._ehlo(session)
        progress.ehlo_keywords = ehlo
        progress.starttls_offered = "STARTTLS" in ehlo
        if not progress.starttls_offered:
            return
        reply = await session.command("STARTTLS")
        progress.starttls_reply = str(reply)
        if reply.code != 220:  # RFC 3207 §4: 454 "TLS not available due to temporary reason"
            raise _Stop(ConnectOutcome.TLS_FAILED, f"STARTTLS was answered {reply}")
        session.discard_buffered()  # RFC 3207 §4.2: nothing read before TLS carries over
        progress.phase, progress.can_quit = Phase.TLS, False
        await session.writer.start_tls(context, server_hostname=host)
        progress.tls = session_of(session.writer.get_extra_info("ssl_object"), host)
        progress.phase, progress.can_quit = Phase.TALK, True
        # RFC 3207 §4.2; the first command after the handshake, which tickets may race
        progress.ehlo_keywords_after_tls = await self._ehlo(session, after_tls=True)

    async def _ehlo(self, session: _Session, *, after_tls: bool = False) -> tuple[str, ...]:
        reply = await session.command(f"EHLO {self._helo_name}", ack_at_once=after_tls)
        if reply.code == 421:  # RFC 5321 §3.8: the server is shutting the channel
            raise _Stop(ConnectOutcome.REFUSED, f"EHLO was answered {reply}")
        if reply.code != 250:
            raise _Stop(ConnectOutcome.PROTOCOL_ERROR, f"EHLO was answered {reply}")
        return parse_ehlo(reply).keywords


async def _close(session: _Session, polite: bool) -> None:
    """Say QUIT when the server is listening (briefly waiting for its reply), then hang up."""
    if polite:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(QUIT_WAIT):
                await session.command("QUIT")
    session.writer.transport.abort()


def _observation(
    host: str,
    address: str,
    port: int,
    progress: _Progress,
    outcome: ConnectOutcome,
    error: str,
    started: float,
) -> SmtpProbe:
    banner = progress.banner
    return SmtpProbe(
        host=host,
        address=address,
        port=port,
        outcome=outcome,
        banner=banner.text if banner else "",
        banner_code=banner.code if banner else None,
        ehlo_keywords=progress.ehlo_keywords,
        starttls_offered=progress.starttls_offered,
        starttls_reply=progress.starttls_reply,
        tls=progress.tls,
        tls_versions=(progress.tls.version,) if progress.tls else (),
        error=error,
        elapsed=time.monotonic() - started,
        ehlo_keywords_after_tls=progress.ehlo_keywords_after_tls,
    )


_MODERN = frozenset({"TLSv1.2", "TLSv1.3"})


def _normalise(address: str) -> str:
    parsed = parse_address(address)
    return address.strip() if parsed is None else str(parsed)
