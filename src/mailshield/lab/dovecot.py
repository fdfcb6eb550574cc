"""Dovecot (Debian ``dovecot-imapd``) as a lab IMAPS server: passwd-file users, one maildir each.

``Dovecot([MailUser("reports", "secret")], tls=cert)`` writes ``dovecot.conf`` into a workdir,
runs ``dovecot -F`` and returns from ``start()`` once the IMAPS listener (implicit TLS,
RFC 8314 §3) greets with ``* OK``. Plain IMAP is off. :meth:`Dovecot.deliver` drops a message
straight into a user's maildir, as a local delivery agent would.

Dovecot's login, auth and mail processes drop root privileges (logins as ``dovenull``, mail as
``mail``, or all as the current user when not root), so everything they read at run time — the
user file, the sockets, the maildirs — lives in a private runtime folder under the system
temporary folder those users can reach; ``stop()`` removes it. The configuration, certificate and
log stay in the workdir (read by the master as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mailshield.lab.ca import IssuedCert
from mailshield.lab.endpoint import Endpoint, ensure_free, loopback
from mailshield.lab.process import Daemon, DaemonError, Service, binary, make_workdir
from mailshield.lab.readiness import Probe

__all__ = ["Dovecot", "MailUser", "render_config"]

_ATTEMPT_SECONDS = 0.5


@dataclass(frozen=True)
class MailUser:
    """An IMAP login and its password (stored in the passwd-file as ``{PLAIN}``)."""

    name: str
    password: str


@dataclass(frozen=True)
class _Accounts:
    """The system users Dovecot's processes run as."""

    internal: str
    login: str
    mail_uid: int
    mail_gid: int

    @classmethod
    def for_current_user(cls) -> _Accounts:
        if os.geteuid() == 0:
            mail = pwd.getpwnam("mail")
            return cls("dovecot", "dovenull", mail.pw_uid, mail.pw_gid)
        me = pwd.getpwuid(os.geteuid())
        return cls(me.pw_name, me.pw_name, me.pw_uid, me.pw_gid)


class Dovecot(Service):
    """A Dovecot IMAPS server for ``users`` on ``listen`` (a free port on 127.0.0.1 by default),
    presenting the certificate ``tls``."""

    def __init__(
        self,
        users: Iterable[MailUser],
        *,
        tls: IssuedCert,
        listen: Endpoint | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.users = {user.name: user for user in users}
        if not self.users:
            raise ValueError("Dovecot needs at least one user")
        self.listen = listen or loopback("127.0.0.1")
        self.workdir = make_workdir(workdir, "dovecot")
        self.config_path = self.workdir / "dovecot.conf"
        self.log_path = self.workdir / "dovecot-mail.log"
        self._tls = tls
        self._accounts = _Accounts.for_current_user()
        self._runtime: Path | None = None
        self._daemon: Daemon | None = None

    @property
    def pid(self) -> int | None:
        return None if self._daemon is None else self._daemon.pid

    def start(self) -> None:
        """Write configuration and user file, start Dovecot, wait for the IMAPS greeting."""
        ensure_free(self.listen, udp=False)
        self._runtime = self._make_runtime()
        cert, key = self._tls.write(self.workdir, "imap")
        config = render_config(
            listen=self.listen,
            runtime=self._runtime,
            log=self.log_path,
            cert=cert,
            key=key,
            accounts=self._accounts,
            instance=f"ms-lab-{self.listen.port}",
        )
        self.config_path.write_text(config)
        self._daemon = Daemon(
            "dovecot",
            [binary("dovecot"), "-F", "-c", str(self.config_path)],
            workdir=self.workdir,
            ready=imaps_greets(self.listen),
        )
        try:
            self._daemon.start()
        except DaemonError as exc:
            self._remove_runtime()
            raise DaemonError(f"{exc}\nlog ends with:\n{self.log_tail()}") from exc

    def stop(self) -> None:
        """Stop the master (it ends its processes); the runtime folder and maildirs are removed."""
        if self._daemon is not None:
            self._daemon.stop()
        self._remove_runtime()

    def maildir(self, user: str) -> Path:
        """The root of ``user``'s maildir (INBOX); other folders are ``.Name`` below it."""
        if self._runtime is None:
            raise DaemonError("Dovecot is not running")
        return self._runtime / "mail" / user / "Maildir"

    def deliver(self, user: str, raw: bytes) -> Path:
        """Put the message ``raw`` into ``user``'s INBOX the way a delivery agent does: written
        under ``tmp/``, then renamed into ``new/`` (the maildir protocol), owned by the mail
        user. Returns the file's path."""
        maildir = self.maildir(user)
        for sub in ("tmp", "new", "cur"):
            self._own_dir(maildir / sub)
        name = f"{time.time_ns()}.P{os.getpid()}.lab"
        temporary = maildir / "tmp" / name
        temporary.write_bytes(raw)
        os.chown(temporary, self._accounts.mail_uid, self._accounts.mail_gid)
        final = maildir / "new" / name
        temporary.rename(final)
        return final

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _make_runtime(self) -> Path:
        runtime = Path(tempfile.mkdtemp(prefix="ms-dovecot-"))
        runtime.chmod(0o755)
        for sub in ("run", "state"):
            (runtime / sub).mkdir()
        self._own_dir(runtime / "mail")
        passwd = runtime / "passwd"
        passwd.write_text(
            "".join(f"{u.name}:{{PLAIN}}{u.password}::::::\n" for u in self.users.values())
        )
        passwd.chmod(0o644)  # read by the auth process (dovecot user); lab passwords only
        return runtime

    def _own_dir(self, path: Path) -> None:
        """Create ``path`` and its missing parents, owned by the mail user."""
        missing = [p for p in (path, *path.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir(mode=0o700)
            os.chown(folder, self._accounts.mail_uid, self._accounts.mail_gid)

    def _remove_runtime(self) -> None:
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None


def render_config(
    *,
    listen: Endpoint,
    runtime: Path,
    log: Path,
    cert: Path,
    key: Path,
    accounts: _Accounts,
    instance: str,
) -> str:
    """``dovecot.conf`` (Dovecot 2.3) for an IMAPS-only lab server; no chroots, no syslog."""
    return f"""\
instance_name = {instance}
base_dir = {runtime / "run"}
state_dir = {runtime / "state"}
protocols = imap
listen = {listen.host}
log_path = {log}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
default_internal_user = {accounts.internal}
default_login_user = {accounts.login}
first_valid_uid = {accounts.mail_uid}
first_valid_gid = {accounts.mail_gid}
mail_location = maildir:~/Maildir
auth_mechanisms = plain
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {runtime / "passwd"}
}}
userdb {{
  driver = static
  args = uid={accounts.mail_uid} gid={accounts.mail_gid} home={runtime / "mail"}/%u
}}
namespace inbox {{
  inbox = yes
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {listen.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def imaps_greets(server: Endpoint) -> Probe:
    """Ready when a TLS connection to ``server`` is greeted with ``* OK`` (RFC 9051 §7.1.1).
    The certificate is not checked here: this only asks whether the daemon is up."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def probe() -> bool:
        try:
            with (
                socket.create_connection(server, timeout=_ATTEMPT_SECONDS) as raw,
                context.wrap_socket(raw) as sock,
            ):
                return sock.recv(512).startswith(b"* OK")
        except OSError:
            return False

    return probe
