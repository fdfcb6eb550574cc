"""The IMAP side of report polling: :class:`ImapMailbox` implements the
:class:`~mailshield.services.imap_poll.Mailbox` port over the standard library's ``imaplib``,
each blocking call run in a worker thread; :func:`poll_once` connects, polls, logs out.

IMAPS only (implicit TLS, RFC 8314 §3), the server verified against the system roots plus
``imap_ca_bundle``. Messages are moved with ``UID MOVE`` (RFC 6851) when the server offers it;
otherwise they are copied to the target folder and the original is marked with the keyword
``$MailShieldDone`` (and skipped from then on), so no message is ever expunged by MailShield.
Folder names are sent as quoted strings (ASCII names; RFC 9051 §5.1).
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from mailshield.services.imap_poll import ImapPoller, PollSummary

__all__ = ["DONE_KEYWORD", "ImapAccount", "ImapError", "ImapMailbox", "poll_once"]

DONE_KEYWORD = "$MailShieldDone"
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")
T = TypeVar("T")


class ImapError(RuntimeError):
    """The IMAP server refused a command or the connection failed."""


@dataclass(frozen=True)
class ImapAccount:
    """Where and as whom to log in."""

    host: str
    port: int
    user: str
    password: str
    ca_bundle: Path | None = None
    timeout: float = 60.0

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_bundle is not None:
            context.load_verify_locations(cafile=str(self.ca_bundle))
        return context


class ImapMailbox:
    """One logged-in IMAPS session; use ``async with ImapMailbox.open(account)``."""

    def __init__(self, client: imaplib.IMAP4) -> None:
        self._client = client
        self._selected: str | None = None
        lines = self._checked(client.capability())
        words = b" ".join(line for line in lines if isinstance(line, bytes)).upper().split()
        self._can_move = b"MOVE" in words

    @classmethod
    async def open(cls, account: ImapAccount) -> Self:
        """Connect with TLS and log in; :class:`ImapError` on failure."""

        def connect() -> ImapMailbox:
            try:
                client = imaplib.IMAP4_SSL(
                    account.host,
                    account.port,
                    ssl_context=account.tls_context(),
                    timeout=account.timeout,
                )
            except (OSError, imaplib.IMAP4.error) as exc:
                raise ImapError(f"cannot connect to {account.host}:{account.port}: {exc}") from exc
            try:
                client.login(account.user, account.password)
                return cls(client)
            except (OSError, imaplib.IMAP4.error) as exc:
                client.shutdown()
                raise ImapError(f"login as {account.user} failed: {exc}") from exc

        mailbox = await asyncio.to_thread(connect)
        assert isinstance(mailbox, cls)
        return mailbox

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Log out (closing the connection even when the server does not answer)."""

        def logout() -> None:
            try:
                self._client.logout()
            except (OSError, imaplib.IMAP4.error):
                self._client.shutdown()

        await asyncio.to_thread(logout)

    async def ensure_folder(self, folder: str) -> None:
        def ensure() -> None:
            listed = self._checked(self._client.list('""', _quote(folder)))
            if not any(isinstance(line, bytes) for line in listed):
                self._checked(self._client.create(_quote(folder)))

        await self._run(ensure)

    async def uids(self, folder: str) -> list[int]:
        def search() -> list[int]:
            self._select(folder)
            data = self._checked(self._client.uid("SEARCH", "UNKEYWORD", DONE_KEYWORD))
            return sorted(int(n) for n in (data[0] or b"").split()) if data else []

        return await self._run(search)

    async def sizes(self, folder: str, uids: list[int]) -> dict[int, int]:
        def fetch() -> dict[int, int]:
            self._select(folder)
            data = self._checked(self._client.uid("FETCH", _set(uids), "(RFC822.SIZE)"))
            return _parse_sizes(data)

        return await self._run(fetch)

    async def fetch(self, folder: str, uid: int) -> bytes | None:
        def fetch() -> bytes | None:
            self._select(folder)
            data = self._checked(self._client.uid("FETCH", str(uid), "(BODY.PEEK[])"))
            for item in data:
                if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                    return item[1]
            return None

        return await self._run(fetch)

    async def move(self, folder: str, uid: int, target: str) -> None:
        def move() -> None:
            self._select(folder)
            if self._can_move:
                self._checked(self._client.uid("MOVE", str(uid), _quote(target)))
                return
            self._checked(self._client.uid("COPY", str(uid), _quote(target)))
            self._checked(self._client.uid("STORE", str(uid), "+FLAGS", f"({DONE_KEYWORD})"))

        await self._run(move)

    def _select(self, folder: str) -> None:
        if self._selected != folder:
            self._checked(self._client.select(_quote(folder)))
            self._selected = folder

    async def _run(self, call: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(call)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ImapError(str(exc)) from exc

    @staticmethod
    def _checked(response: tuple[str, list[Any]]) -> list[Any]:
        status, data = response
        if status != "OK":
            raise ImapError(f"the server answered {status}: {data!r}")
        return data


async def poll_once(account: ImapAccount, poller: ImapPoller) -> PollSummary:
    """Log in, run one poll, log out; :class:`ImapError` when the server fails us."""
    async with await ImapMailbox.open(account) as mailbox:
        return await poller.poll(mailbox)


def _quote(folder: str) -> str:
    """``folder`` as an IMAP quoted string (RFC 9051 §4.3)."""
    escaped = folder.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _parse_sizes(data: list[Any]) -> dict[int, int]:
    """UID → size from ``* n FETCH (UID u RFC822.SIZE s)`` lines (either item order)."""
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        match = _SIZE.search(line)
        if match is None:
            continue
        uid, size, size2, uid2 = match.groups()
        sizes[int(uid or uid2)] = int(size or size2)
    return sizes
