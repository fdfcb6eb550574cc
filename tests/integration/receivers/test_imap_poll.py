"""Polling a real Dovecot over IMAPS: reports stored exactly once and moved only after storage,
malformed and refused mail quarantined (never deleted), crash and storage-failure recovery,
servers without MOVE. Storage on SQLite."""

from __future__ import annotations

import asyncio
import imaplib
import itertools
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.integration.receivers.conftest import make_intake
from tests.integration.receivers.mail import (
    DkimKey,
    raw_rows,
    report_json,
    report_message,
    sign,
    stored_reports,
)
from tests.support.lab import require_binary

from mailshield.interfaces.receivers.imap import (
    DONE_KEYWORD,
    ImapAccount,
    ImapError,
    ImapMailbox,
    poll_once,
)
from mailshield.interfaces.receivers.wiring import run_imap_poll
from mailshield.lab.ca import LabCA
from mailshield.lab.dovecot import Dovecot, MailUser
from mailshield.lab.endpoint import free_port, loopback
from mailshield.services.imap_poll import ImapPoller, PollFolders, PollSummary
from mailshield.services.report_mail import MailIntake
from mailshield.services.settings import load_settings
from mailshield.storage import Database

pytestmark = pytest.mark.lab

IMAP_HOST = "127.0.14.2"
USERS = [MailUser(f"reports{n}", f"secret-{n}") for n in range(12)]
IMAP_BIT = 4


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These tests exercise IMAP; storage runs on SQLite only."""
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'mailshield.db'}"


@pytest.fixture(scope="module")
def imap_ca() -> LabCA:
    return LabCA()


@pytest.fixture(scope="module")
def imap_root(imap_ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root the poller trusts for the IMAP server (``imap_ca_bundle``)."""
    return imap_ca.write_root(tmp_path_factory.mktemp("imap-ca") / "root.pem")


@pytest.fixture(scope="module")
def dovecot(imap_ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """One Dovecot for the module; each test gets a user (and mailbox) of its own."""
    require_binary("dovecot")
    server = Dovecot(
        USERS,
        tls=imap_ca.issue("imap.lab.test", IMAP_HOST),
        listen=loopback(IMAP_HOST),
        workdir=tmp_path_factory.mktemp("dovecot"),
    )
    with server:
        yield server


_next_user = itertools.count()


@pytest.fixture
def account(dovecot: Dovecot, imap_root: Path) -> ImapAccount:
    """A mailbox nobody else uses, reached over IMAPS verified by the lab root."""
    user = USERS[next(_next_user)]
    return ImapAccount(IMAP_HOST, dovecot.listen.port, user.name, user.password, imap_root)


@pytest.fixture
def poller(mail: MailIntake) -> ImapPoller:
    return ImapPoller(mail, PollFolders(), max_message_bytes=128 * 1024)


def client(account: ImapAccount) -> imaplib.IMAP4_SSL:
    """A plain imaplib session for arranging and inspecting the mailbox."""
    session = imaplib.IMAP4_SSL(
        account.host,
        account.port,
        ssl_context=ssl.create_default_context(cafile=str(account.ca_bundle)),
    )
    session.login(account.user, account.password)
    return session


def append(account: ImapAccount, *messages: bytes) -> None:
    """APPEND ``messages`` to the account's INBOX."""
    session = client(account)
    try:
        for message in messages:
            assert session.append("INBOX", None, None, message)[0] == "OK"
    finally:
        session.logout()


def folder_counts(account: ImapAccount) -> dict[str, int]:
    """How many messages each folder holds (those without ``$MailShieldDone`` in brackets)."""
    session = client(account)
    counts = {}
    try:
        for folder in ("INBOX", "Processed", "Quarantine"):
            status, data = session.select(f'"{folder}"')
            counts[folder] = int(data[0]) if status == "OK" and data[0] else 0
    finally:
        session.logout()
    return counts


async def test_report_is_stored_once_and_moved(
    account: ImapAccount, poller: ImapPoller, served: Database, dkim_key: DkimKey
) -> None:
    """An appended signed report is stored with its DKIM verdict and moved to Processed; the
    next poll finds nothing new."""
    append(account, sign(report_message(), dkim_key))
    summary = await poll_once(account, poller)
    assert summary.verdicts == {"accepted": 1}
    assert summary.moved == {"Processed": 1}
    assert await stored_reports(served) == [
        {"report_id": "20240501.example.com.4f1c9a2e@sender.example", "copies": 1, "channels": 4}
    ]
    [raw] = await raw_rows(served)
    assert raw["channel"] == "imap"
    assert raw["meta"]["dkim"]["result"] == "pass"
    assert folder_counts(account) == {"INBOX": 0, "Processed": 1, "Quarantine": 0}
    assert (await poll_once(account, poller)).seen == 0


async def test_maildir_delivery_is_picked_up(
    dovecot: Dovecot, account: ImapAccount, poller: ImapPoller, served: Database
) -> None:
    """A report delivered straight into the maildir (as an MDA would) is stored and moved."""
    dovecot.deliver(account.user, report_message())
    summary = await poll_once(account, poller)
    assert summary.verdicts == {"accepted": 1}
    assert len(await stored_reports(served)) == 1
    assert folder_counts(account)["Processed"] == 1


@pytest.mark.parametrize(
    ("message", "db_state"),
    [
        pytest.param(
            b"From: someone@sender.example\r\nSubject: hi\r\n\r\nnot a report\r\n",
            "quarantined",
            id="malformed",
        ),
        pytest.param(
            report_message(report_json("google.json").replace(b"example.org", b"other.example")),
            None,
            id="domain-not-served",
        ),
    ],
)
async def test_unusable_mail_goes_to_quarantine_never_deleted(
    account: ImapAccount,
    poller: ImapPoller,
    served: Database,
    message: bytes,
    db_state: str | None,
) -> None:
    """Malformed mail is kept raw in the database and moved to Quarantine; a report for a domain
    not served is moved to Quarantine too (nothing stored). Nothing is deleted."""
    append(account, message)
    summary = await poll_once(account, poller)
    assert summary.moved == {"Quarantine": 1}
    assert folder_counts(account) == {"INBOX": 0, "Processed": 0, "Quarantine": 1}
    states = [row["state"] for row in await raw_rows(served)]
    assert states == ([db_state] if db_state else [])


async def test_oversized_message_is_quarantined_unread(
    account: ImapAccount, mail: MailIntake, served: Database
) -> None:
    """A message over the cap is moved to Quarantine without being fetched or stored."""
    append(account, report_message(extra=b"x" * 4096))
    small = ImapPoller(mail, max_message_bytes=1024)
    summary = await poll_once(account, small)
    assert summary.verdicts == {"too_large": 1}
    assert folder_counts(account)["Quarantine"] == 1
    assert await raw_rows(served) == []


class _CrashBeforeMove(ImapMailbox):
    """A mailbox whose first move fails, as if the poller died between storing and moving."""

    crashed = False

    async def move(self, folder: str, uid: int, target: str) -> None:
        if not self.crashed:
            self.crashed = True
            raise ImapError("connection lost")
        await super().move(folder, uid, target)


async def test_crash_between_store_and_move_keeps_one_report(
    account: ImapAccount, poller: ImapPoller, served: Database
) -> None:
    """The message stays in INBOX after a crash before the move; the next poll processes it
    again, the dedupe counts it as a copy, and it is moved."""
    append(account, report_message())
    async with await _CrashBeforeMove.open(account) as mailbox:
        with pytest.raises(ImapError):
            await poller.poll(mailbox)
    assert folder_counts(account)["INBOX"] == 1
    summary = await poll_once(account, poller)
    assert summary.moved == {"Processed": 1}
    assert await stored_reports(served) == [
        {"report_id": "20240501.example.com.4f1c9a2e@sender.example", "copies": 2, "channels": 4}
    ]


@pytest.fixture
async def broken_mail() -> AsyncIterator[MailIntake]:
    """An intake whose database is unreachable."""
    url = f"postgresql+asyncpg://mailshield@127.0.14.99:{free_port('127.0.14.99')}/none"
    async with Database(url) as database:
        intake = make_intake(database)
        yield MailIntake(intake, None)
        await intake.aclose()


async def test_storage_failure_leaves_mail_for_the_next_poll(
    account: ImapAccount, poller: ImapPoller, broken_mail: MailIntake, served: Database
) -> None:
    """While storage is down nothing is moved and the poll stops; once it is back the messages
    are stored and moved."""
    append(account, report_message(), report_message(report_json("google.json")))
    summary = await poll_once(account, ImapPoller(broken_mail))
    assert summary.verdicts == {"retry": 1}
    assert summary.stopped_early
    assert folder_counts(account)["INBOX"] == 2
    recovered = await poll_once(account, poller)
    assert recovered.moved == {"Processed": 2}
    assert len(await stored_reports(served)) == 2


async def test_without_move_messages_are_copied_and_marked(
    account: ImapAccount, poller: ImapPoller, served: Database
) -> None:
    """A server without MOVE gets COPY plus the ``$MailShieldDone`` keyword: the original stays
    (nothing is expunged) and later polls skip it."""
    append(account, report_message())
    async with await ImapMailbox.open(account) as mailbox:
        mailbox._can_move = False
        summary = await poller.poll(mailbox)
    assert summary.moved == {"Processed": 1}
    assert folder_counts(account) == {"INBOX": 1, "Processed": 1, "Quarantine": 0}
    session = client(account)
    try:
        session.select("INBOX")
        assert session.uid("SEARCH", "KEYWORD", DONE_KEYWORD)[1][0]
    finally:
        session.logout()
    assert (await poll_once(account, poller)).seen == 0
    assert len(await stored_reports(served)) == 1


async def test_wrong_password_is_an_imap_error(account: ImapAccount, poller: ImapPoller) -> None:
    """A refused login is reported as :class:`ImapError`, not a crash."""
    wrong = ImapAccount(account.host, account.port, account.user, "wrong", account.ca_bundle)
    with pytest.raises(ImapError, match="login"):
        await poll_once(wrong, poller)


async def test_untrusted_server_certificate_is_refused(
    account: ImapAccount, poller: ImapPoller, tmp_path: Path
) -> None:
    """The server must present a certificate the configured roots trust."""
    other = LabCA("another root").write_root(tmp_path / "other.pem")
    untrusting = ImapAccount(account.host, account.port, account.user, account.password, other)
    with pytest.raises(ImapError, match="cannot connect"):
        await poll_once(untrusting, poller)


async def test_polling_loop_from_settings_runs_until_stopped(
    account: ImapAccount, served: Database, database_url: str
) -> None:
    """Without ``--once`` the poller built from the ``imap_*`` settings polls, reports each poll
    and ends when told to stop (between polls, without waiting out the interval)."""
    append(account, report_message())
    settings = load_settings(
        database_url=database_url,
        imap_host=account.host,
        imap_port=account.port,
        imap_user=account.user,
        imap_password=account.password,
        imap_ca_bundle=account.ca_bundle,
        resolvers=["127.0.14.53:9"],  # DKIM lookups fail fast; the message is unsigned anyway
        dns_timeout=0.5,
    )
    stop = asyncio.Event()
    results: list[object] = []

    def polled(result: object) -> None:
        results.append(result)
        stop.set()

    ok = await run_imap_poll(settings, once=False, interval=3600, stop=stop, on_poll=polled)
    assert ok
    [summary] = results
    assert isinstance(summary, PollSummary)
    assert summary.moved == {"Processed": 1}
    assert len(await stored_reports(served)) == 1
