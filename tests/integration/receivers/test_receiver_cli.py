"""``mailshield smtp-receiver`` and ``mailshield imap-poll`` as real processes, configured only
through ``MAILSHIELD_*`` variables, on a migrated SQLite file."""

from __future__ import annotations

import asyncio
import imaplib
import json
import os
import signal
import ssl
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.integration.receivers.conftest import REPORT_ADDRESS
from tests.integration.receivers.mail import DkimKey, raw_rows, report_message, sign
from tests.integration.receivers.smtp_client import deliver
from tests.support.lab import require_binary

from mailshield.lab.ca import LabCA
from mailshield.lab.dns_server import DnsServer
from mailshield.lab.dovecot import Dovecot, MailUser
from mailshield.lab.endpoint import free_port, loopback
from mailshield.storage import Database

MAILSHIELD = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]
LISTEN_HOST = "127.0.14.27"
IMAP_HOST = "127.0.14.3"
USER = MailUser("reports", "cli-secret")
START_DEADLINE = 60.0


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """One SQLite file shared by the test and the command it starts."""
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'mailshield.db'}"


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """The caller's environment without MailShield settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env["MAILSHIELD_DATABASE_URL"] = database_url
    return env | {f"MAILSHIELD_{name.upper()}": value for name, value in settings.items()}


@pytest.fixture
async def smtp_process(
    served: Database,
    database_url: str,
    lab_dns: DnsServer,
    ca: LabCA,
    tmp_path: Path,
) -> AsyncIterator[tuple[str, int]]:
    """``mailshield smtp-receiver`` with STARTTLS and DKIM through the lab DNS; yields where it
    listens once it says so, and is stopped with SIGTERM (which must end it cleanly)."""
    cert, key = ca.issue("reports.example.net", LISTEN_HOST).write(tmp_path, "receiver")
    dns_host, dns_port = lab_dns.address
    env = environment(
        database_url,
        smtp_receiver_listen=LISTEN_HOST,
        smtp_receiver_port=str(free_port(LISTEN_HOST)),
        smtp_receiver_hostname="reports.example.net",
        smtp_receiver_cert=str(cert),
        smtp_receiver_key=str(key),
        tlsrpt_rua=f"mailto:{REPORT_ADDRESS}",
        resolvers=f"{dns_host}:{dns_port}",
    )
    process = await asyncio.create_subprocess_exec(
        *MAILSHIELD, "smtp-receiver", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        line = await asyncio.wait_for(_line_with(process.stderr, b"listening on"), START_DEADLINE)
        host, _, port = line.rsplit(b" ", 1)[-1].decode().strip().rpartition(":")
        yield host, int(port)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def _line_with(stream: asyncio.StreamReader, marker: bytes) -> bytes:
    seen = b""
    while line := await stream.readline():
        seen += line
        if marker in line:
            return line
    raise AssertionError(f"the command ended without {marker!r}:\n{seen.decode()}")


async def test_smtp_receiver_command_stores_mailed_reports(
    smtp_process: tuple[str, int], served: Database, dkim_key: DkimKey, lab_root: Path
) -> None:
    """The command receives a signed report over STARTTLS, stores it, records DKIM pass."""
    exchange = await deliver(smtp_process, sign(report_message(), dkim_key), root=lab_root)
    assert exchange.code == 250
    [raw] = await raw_rows(served)
    assert (raw["channel"], raw["state"]) == ("smtp", "stored"), raw
    assert raw["meta"]["dkim"]["result"] == "pass"


@pytest.fixture
def dovecot(ca: LabCA, tmp_path: Path) -> Iterator[Dovecot]:
    require_binary("dovecot")
    with Dovecot(
        [USER],
        tls=ca.issue("imap.lab.test", IMAP_HOST),
        listen=loopback(IMAP_HOST),
        workdir=tmp_path,
    ) as server:
        yield server


def imap_settings(dovecot: Dovecot, root: Path, password: str = USER.password) -> dict[str, str]:
    return {
        "imap_host": IMAP_HOST,
        "imap_port": str(dovecot.listen.port),
        "imap_user": USER.name,
        "imap_password": password,
        "imap_ca_bundle": str(root),
    }


async def run(database_url: str, *args: str, **settings: str) -> tuple[int, str, str]:
    """Run a ``mailshield`` command to completion: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        *MAILSHIELD,
        *args,
        env=environment(database_url, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), START_DEADLINE)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_imap_poll_once_stores_and_moves(
    dovecot: Dovecot, served: Database, database_url: str, lab_root: Path
) -> None:
    """``imap-poll --once --json`` polls one time, prints the summary, exits 0."""
    dovecot.deliver(USER.name, report_message())
    code, out, err = await run(
        database_url, "imap-poll", "--once", "--json", **imap_settings(dovecot, lab_root)
    )
    assert code == 0, err
    rows = await raw_rows(served)
    assert json.loads(out) == {
        "messages": 1,
        "verdicts": {"accepted": 1},
        "moved": {"Processed": 1},
        "stopped_early": False,
    }, rows
    assert [(row["channel"], row["state"]) for row in rows] == [("imap", "stored")]
    assert _count(dovecot, lab_root, "Processed") == 1


async def test_imap_poll_exits_1_when_the_poll_fails(
    dovecot: Dovecot, served: Database, database_url: str, lab_root: Path
) -> None:
    """A refused login is reported and the command exits 1 (cron sees the failure)."""
    code, _, err = await run(
        database_url, "imap-poll", "--once", **imap_settings(dovecot, lab_root, "wrong")
    )
    assert code == 1
    assert "poll failed" in err


async def test_imap_poll_needs_a_host(served: Database, database_url: str) -> None:
    """Without ``imap_host`` the command explains what to set (usage error, exit 2)."""
    code, _, err = await run(database_url, "imap-poll", "--once")
    assert code == 2
    assert "MAILSHIELD_IMAP_HOST" in err


def _count(dovecot: Dovecot, root: Path, folder: str) -> int:
    context = ssl.create_default_context(cafile=str(root))
    client = imaplib.IMAP4_SSL(IMAP_HOST, dovecot.listen.port, ssl_context=context)
    try:
        client.login(USER.name, USER.password)
        status, data = client.select(folder)
        return int(data[0]) if status == "OK" and data[0] else 0
    finally:
        client.logout()
