"""The mail receivers built from :class:`Settings` and run: the SMTP receiver until told to stop,
the IMAP poller once or on an interval. Both share one intake per process (the pipeline of
``services.ingest`` over the configured database, with DKIM through the configured resolvers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from mailshield.interfaces.receivers.imap import ImapAccount, ImapError, poll_once
from mailshield.interfaces.receivers.smtp import (
    Mailboxes,
    ReportHandler,
    SmtpReceiver,
    tls_context,
)
from mailshield.probes.dns import DnsClient, system_nameservers
from mailshield.services.imap_poll import ImapPoller, PollFolders, PollSummary
from mailshield.services.ingest import IngestOptions, ReportIntake
from mailshield.services.ports import DnsLookup
from mailshield.services.report_dkim import ReportDkim
from mailshield.services.report_mail import MailIntake
from mailshield.services.settings import Settings
from mailshield.storage import Database
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.reports import ReportStore

__all__ = [
    "build_poller",
    "build_smtp_receiver",
    "imap_account",
    "mail_intake",
    "message_cap",
    "run_imap_poll",
    "run_smtp_receiver",
]

log = logging.getLogger(__name__)


def message_cap(settings: Settings) -> int:
    """The largest report message taken: twice ``report_max_bytes`` (MIME and base64 overhead;
    the same cap the pipeline applies, ``IngestOptions.for_max_bytes``)."""
    return 2 * settings.report_max_bytes


def dns_factory(settings: Settings) -> Callable[[], DnsLookup]:
    """New DNS clients on the configured resolvers (DKIM keys; never the host's stub)."""
    nameservers = settings.resolvers or system_nameservers()
    return lambda: DnsClient(nameservers, timeout=settings.dns_timeout)


@contextlib.asynccontextmanager
async def mail_intake(settings: Settings, db: Database) -> AsyncIterator[MailIntake]:
    """The intake for report e-mails; pending writes are drained when the block ends."""
    intake = ReportIntake(
        ReportStore(db), DomainsTable(db), IngestOptions.for_max_bytes(settings.report_max_bytes)
    )
    try:
        yield MailIntake(intake, ReportDkim(dns_factory(settings)))
    finally:
        await intake.aclose()


def build_smtp_receiver(settings: Settings, mail: MailIntake) -> SmtpReceiver:
    """The receiver on ``smtp_receiver_listen:smtp_receiver_port``, STARTTLS when both
    ``smtp_receiver_cert`` and ``smtp_receiver_key`` are set."""
    context = None
    if settings.smtp_receiver_cert and settings.smtp_receiver_key:
        context = tls_context(str(settings.smtp_receiver_cert), str(settings.smtp_receiver_key))
    mailboxes = Mailboxes.from_rua(settings.tlsrpt_rua)
    if not mailboxes.addresses:
        log.warning("no mailto: address in tlsrpt_rua: every recipient is accepted")
    return SmtpReceiver(
        ReportHandler(mail, mailboxes),
        host=settings.smtp_receiver_listen,
        port=settings.smtp_receiver_port,
        hostname=settings.smtp_receiver_hostname,
        tls_context=context,
        max_message_bytes=message_cap(settings),
    )


async def run_smtp_receiver(
    settings: Settings,
    stop: asyncio.Event,
    on_ready: Callable[[tuple[str, int]], None] | None = None,
) -> None:
    """Serve SMTP until ``stop`` is set; ``on_ready`` gets the listening address."""
    async with (
        Database(settings.effective_database_url) as db,
        mail_intake(settings, db) as mail,
        build_smtp_receiver(settings, mail) as receiver,
    ):
        if on_ready is not None:
            on_ready(receiver.address)
        await stop.wait()


def imap_account(settings: Settings) -> ImapAccount:
    """The mailbox to poll, from the ``imap_*`` settings."""
    if not settings.imap_host:
        raise ValueError("imap_host is not set: nothing to poll")
    return ImapAccount(
        settings.imap_host,
        settings.imap_port,
        settings.imap_user,
        settings.imap_password,
        settings.imap_ca_bundle,
        timeout=max(settings.check_timeout, 30.0),
    )


def build_poller(settings: Settings, mail: MailIntake) -> ImapPoller:
    folders = PollFolders(
        settings.imap_folder, settings.imap_done_folder, settings.imap_quarantine_folder
    )
    return ImapPoller(mail, folders, max_message_bytes=message_cap(settings))


async def run_imap_poll(
    settings: Settings,
    *,
    once: bool,
    interval: float,
    stop: asyncio.Event,
    on_poll: Callable[[PollSummary | ImapError], None] | None = None,
) -> bool:
    """Poll once, or every ``interval`` seconds until ``stop`` is set. Returns whether the last
    poll succeeded; a failed poll (server down, login refused) is reported and retried."""
    account = imap_account(settings)
    ok = False
    async with Database(settings.effective_database_url) as db, mail_intake(settings, db) as mail:
        poller = build_poller(settings, mail)
        while True:
            try:
                result: PollSummary | ImapError = await poll_once(account, poller)
                ok = True
            except ImapError as exc:
                log.error("IMAP poll of %s failed: %s", account.host, exc)
                result, ok = exc, False
            if on_poll is not None:
                on_poll(result)
            if once or await _stopped(stop, interval):
                return ok


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until ``stop`` is set; whether it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
