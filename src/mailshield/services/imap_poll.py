"""Polling an IMAP mailbox for TLS report e-mails (``rua=mailto:`` delivered elsewhere).

One poll walks the messages of the report folder by UID (RFC 9051 §2.3.1.1: UIDs stay valid
while messages around them come and go) and, for each one:

1. reads its size; over the cap it is moved to the quarantine folder unread;
2. fetches it with ``BODY.PEEK[]`` (the ``\\Seen`` flag is left alone) and hands the bytes to
   :class:`~mailshield.services.report_mail.MailIntake`;
3. only after the verdict is durable (the report, or the raw message in quarantine, is
   committed) moves it: to the done folder when a report was kept, to the quarantine folder
   otherwise (unreadable, refused, too large). Nothing is ever deleted.

A crash between 2 and 3 leaves the message in place; the next poll processes it again and the
pipeline's dedupe counts it as a copy, so it is stored once. On ``retry`` (storage down) the
poll stops and leaves the rest for the next one. The mailbox itself is a port
(:class:`Mailbox`), implemented over imaplib by ``interfaces.receivers.imap``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from mailshield.core.model import JSONValue
from mailshield.services.ingest import Channel
from mailshield.services.report_mail import MailIntake, MailResult, MailVerdict

__all__ = ["ImapPoller", "Mailbox", "PollFolders", "PollSummary"]

log = logging.getLogger(__name__)


class Mailbox(Protocol):
    """A logged-in IMAP session, addressed by folder name and UID."""

    async def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` unless it exists."""

    async def uids(self, folder: str) -> list[int]:
        """The UIDs of the messages waiting in ``folder``, oldest first."""

    async def sizes(self, folder: str, uids: list[int]) -> dict[int, int]:
        """``RFC822.SIZE`` of each message (those that vanished are left out)."""

    async def fetch(self, folder: str, uid: int) -> bytes | None:
        """The message's bytes exactly as stored, without setting ``\\Seen``; ``None`` if gone."""

    async def move(self, folder: str, uid: int, target: str) -> None:
        """Move the message to ``target`` (RFC 6851 MOVE, or copy and mark it done)."""


@dataclass(frozen=True, slots=True)
class PollFolders:
    """Where reports wait, where stored ones go, where unreadable or refused ones go."""

    inbox: str = "INBOX"
    done: str = "Processed"
    quarantine: str = "Quarantine"


@dataclass(slots=True)
class PollSummary:
    """What one poll did: messages per verdict and how many were moved."""

    verdicts: Counter[str] = field(default_factory=Counter)
    moved: Counter[str] = field(default_factory=Counter)
    stopped_early: bool = False

    @property
    def seen(self) -> int:
        return sum(self.verdicts.values())

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "messages": self.seen,
            "verdicts": dict(self.verdicts),
            "moved": dict(self.moved),
            "stopped_early": self.stopped_early,
        }


class ImapPoller:
    """Processes the report folder of a mailbox through ``mail``, at most ``batch`` messages
    per poll, each at most ``max_message_bytes``."""

    def __init__(
        self,
        mail: MailIntake,
        folders: PollFolders | None = None,
        *,
        max_message_bytes: int = 20 * 1024 * 1024,
        batch: int = 500,
    ) -> None:
        self._mail = mail
        self._folders = folders or PollFolders()
        self._max_bytes = max_message_bytes
        self._batch = batch

    async def poll(self, mailbox: Mailbox) -> PollSummary:
        """One pass over the waiting messages (see the module docstring)."""
        folders = self._folders
        for folder in (folders.done, folders.quarantine):
            await mailbox.ensure_folder(folder)
        summary = PollSummary()
        uids = (await mailbox.uids(folders.inbox))[: self._batch]
        sizes = await mailbox.sizes(folders.inbox, uids) if uids else {}
        for uid in uids:
            if uid not in sizes:
                continue  # expunged by someone else meanwhile
            verdict = await self._one(mailbox, uid, sizes[uid])
            if verdict is None:
                continue
            summary.verdicts[verdict.value] += 1
            if verdict is MailVerdict.RETRY:
                summary.stopped_early = True
                break
            target = folders.done if verdict is MailVerdict.ACCEPTED else folders.quarantine
            await mailbox.move(folders.inbox, uid, target)
            summary.moved[target] += 1
        return summary

    async def _one(self, mailbox: Mailbox, uid: int, size: int) -> MailVerdict | None:
        if size > self._max_bytes:
            log.warning("IMAP message %s: %s bytes, over the cap; quarantined unread", uid, size)
            return MailVerdict.TOO_LARGE
        raw = await mailbox.fetch(self._folders.inbox, uid)
        if raw is None:
            return None
        result = await self._mail.receive(
            raw, Channel.IMAP, source=f"imap:{self._folders.inbox}/{uid}", meta={"imap-uid": uid}
        )
        _log(uid, result)
        return result.verdict


def _log(uid: int, result: MailResult) -> None:
    level = logging.INFO if result.verdict.durable else logging.WARNING
    log.log(level, "IMAP message %s: %s (%s)", uid, result.verdict.value, result.detail)
