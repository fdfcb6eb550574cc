"""Dovecot as a lab IMAPS server: verified TLS, passwd-file logins, APPEND and maildir delivery,
folders and MOVE, clean start and stop."""

from __future__ import annotations

import imaplib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.lab import require_binary

from mailshield.lab.ca import LabCA
from mailshield.lab.dovecot import Dovecot, MailUser
from mailshield.lab.endpoint import AddressInUse, loopback

pytestmark = pytest.mark.lab

IMAP_HOST = "127.0.14.2"
USER = MailUser("reports", "lab-secret")


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture(scope="module")
def root(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ca.write_root(tmp_path_factory.mktemp("ca") / "root.pem")


@pytest.fixture(scope="module")
def dovecot(ca: LabCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """One Dovecot for the module, its certificate naming its IP address."""
    require_binary("dovecot")
    server = Dovecot(
        [USER, MailUser("other", "x")],
        tls=ca.issue("imap.lab.test", IMAP_HOST),
        listen=loopback(IMAP_HOST),
        workdir=tmp_path_factory.mktemp("dovecot"),
    )
    with server:
        yield server


def connect(dovecot: Dovecot, root: Path) -> imaplib.IMAP4_SSL:
    """An IMAPS client verifying the server against the lab root."""
    context = ssl.create_default_context(cafile=str(root))
    return imaplib.IMAP4_SSL(dovecot.listen.host, dovecot.listen.port, ssl_context=context)


def uids(client: imaplib.IMAP4_SSL, folder: str) -> list[str]:
    """The UIDs of the messages in ``folder`` (which becomes the selected folder)."""
    client.select(folder)
    _, data = client.uid("SEARCH", "ALL")
    return data[0].decode().split() if data and data[0] else []


def test_login_and_append_over_verified_tls(dovecot: Dovecot, root: Path) -> None:
    """A user logs in over IMAPS verified by the lab root and finds the message it appended."""
    client = connect(dovecot, root)
    try:
        assert client.login(USER.name, USER.password)[0] == "OK"
        status, _ = client.append("INBOX", None, None, b"Subject: appended\r\n\r\nhello\r\n")
        assert status == "OK"
        found = uids(client, "INBOX")
        _, data = client.uid("FETCH", found[-1], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"Subject: appended" in data[0][1]
    finally:
        client.logout()


def test_wrong_password_is_refused(ca: LabCA, root: Path, tmp_path: Path) -> None:
    """The passwd-file is the only way in: a wrong password fails the login. (Its own server:
    Dovecot slows later logins from an address that failed one.)"""
    with Dovecot([USER], tls=ca.issue("imap.lab.test", "127.0.0.1"), workdir=tmp_path) as server:
        client = connect(server, root)
        try:
            with pytest.raises(imaplib.IMAP4.error):
                client.login(USER.name, "wrong")
        finally:
            client.shutdown()


def test_certificate_is_checked_by_clients(dovecot: Dovecot, tmp_path: Path) -> None:
    """A client trusting another CA refuses the server's certificate."""
    other_root = LabCA("another root").write_root(tmp_path / "other.pem")
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(dovecot, other_root)


def test_delivered_message_appears_in_inbox(dovecot: Dovecot, root: Path) -> None:
    """A message dropped into the maildir is seen over IMAP, and can be moved to a folder."""
    dovecot.deliver("other", b"Subject: delivered\r\n\r\nby the lab\r\n")
    client = connect(dovecot, root)
    try:
        client.login("other", "x")
        found = uids(client, "INBOX")
        assert len(found) == 1
        client.create("Processed")
        client.select("INBOX")
        assert client.uid("MOVE", found[0], "Processed")[0] == "OK"
        assert uids(client, "INBOX") == []
        assert len(uids(client, "Processed")) == 1
    finally:
        client.logout()


def test_refuses_a_taken_address(dovecot: Dovecot, ca: LabCA, tmp_path: Path) -> None:
    """A second server on the same address fails before starting anything."""
    second = Dovecot([USER], tls=ca.issue("imap.lab.test"), listen=dovecot.listen, workdir=tmp_path)
    with pytest.raises(AddressInUse):
        second.start()


def test_stop_leaves_no_process_and_removes_the_mail(ca: LabCA, tmp_path: Path) -> None:
    """After stop the master is gone and the runtime folder with the maildirs is removed; the
    log stays."""
    require_binary("dovecot")
    with Dovecot([USER], tls=ca.issue("imap.lab.test"), workdir=tmp_path) as server:
        pid = server.pid
        maildir = server.deliver(USER.name, b"Subject: x\r\n\r\ny\r\n")
        assert maildir.is_file()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not maildir.exists()
    assert "starting up" in server.log_tail()
