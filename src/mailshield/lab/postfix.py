"""Postfix (Debian package) as a lab relay: it accepts mail on a loopback address and relays the
mail of chosen domains to fixed next hops, with STARTTLS on both sides.

``Postfix({"example.com": Endpoint("127.0.14.9", 2525)}, tls=cert, ca_file=root)`` writes
``main.cf`` and ``master.cf`` into a workdir, checks them, runs ``postfix start-fg`` and returns
from ``start()`` once the listener greets with ``220``. Mail for each routed domain goes to its
next hop (``transport_maps``: ``smtp:[127.x.y.z]:PORT``, no MX lookup); any other destination
bounces with ``error:`` so nothing ever leaves 127.0.0.0/8.

What it takes to run Postfix by hand (docs/lab.md, lab notes §5):

- ``inet_interfaces = loopback-only`` and the exact address bound in master.cf (``inet_interfaces``
  cannot name 127.x addresses no interface carries); every service with chroot ``n``;
- ``smtpd_peername_lookup = no`` and ``smtp_dns_support_level = disabled``: no PTR or MX lookups
  through the host's resolver; next hops are IP literals, so no name is ever resolved;
- ``maillog_file`` in the workdir (there is no syslog), allowed by ``maillog_file_prefixes``;
- errors from ``postfix check`` go only to a terminal, so it runs under a pseudo-terminal;
- Postfix's workers run as the ``postfix`` user, so the queue and ``data_directory`` live in a
  private runtime folder under the system temporary folder that user can reach (a test's workdir
  usually sits below folders only root may enter); it is removed by ``stop()``. The configuration
  and the maillog stay in the workdir: workers read them as root before dropping privileges.

Postfix must be started as root (its master refuses otherwise).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mailshield.lab.ca import IssuedCert
from mailshield.lab.endpoint import Endpoint, ensure_free, loopback
from mailshield.lab.process import (
    Daemon,
    DaemonError,
    Service,
    ToolError,
    binary,
    make_workdir,
    run_tool,
)
from mailshield.lab.readiness import Probe

__all__ = ["Postfix", "render_main_cf", "render_master_cf"]

_ATTEMPT_SECONDS = 0.5
_POLL_SECONDS = 0.05
_OUTBOUND_TLS_LEVELS = ("none", "may", "encrypt")

# Every service Postfix needs to receive, queue and relay mail; chroot (5th column) is "n".
_SERVICES = """\
pickup     unix  n  -  n  60     1  pickup
cleanup    unix  n  -  n  -      0  cleanup
qmgr       unix  n  -  n  300    1  qmgr
tlsmgr     unix  -  -  n  1000?  1  tlsmgr
rewrite    unix  -  -  n  -      -  trivial-rewrite
bounce     unix  -  -  n  -      0  bounce
defer      unix  -  -  n  -      0  bounce
trace      unix  -  -  n  -      0  bounce
verify     unix  -  -  n  -      1  verify
flush      unix  n  -  n  1000?  0  flush
proxymap   unix  -  -  n  -      -  proxymap
proxywrite unix  -  -  n  -      1  proxymap
smtp       unix  -  -  n  -      -  smtp
relay      unix  -  -  n  -      -  smtp
showq      unix  n  -  n  -      -  showq
error      unix  -  -  n  -      -  error
retry      unix  -  -  n  -      -  error
discard    unix  -  -  n  -      -  discard
anvil      unix  -  -  n  -      1  anvil
scache     unix  -  -  n  -      1  scache
postlog    unix-dgram n  -  n  -  1  postlogd
"""


class Postfix(Service):
    """A Postfix relay on ``listen`` (a free port on 127.0.0.1 by default) for ``routes``:
    recipient domain → next hop. ``tls`` is the certificate offered with STARTTLS; ``ca_file``
    the roots trusted when relaying; ``outbound_tls`` the ``smtp_tls_security_level``."""

    def __init__(
        self,
        routes: Mapping[str, Endpoint],
        *,
        listen: Endpoint | None = None,
        workdir: Path | None = None,
        tls: IssuedCert | None = None,
        ca_file: Path | None = None,
        outbound_tls: str = "may",
        hostname: str = "relay.lab.test",
        message_size_limit: int = 10_240_000,
        tuning: Mapping[str, str] | None = None,
    ) -> None:
        if not routes:
            raise ValueError("Postfix needs at least one routed domain")
        if outbound_tls not in _OUTBOUND_TLS_LEVELS:
            raise ValueError(f"outbound_tls must be one of {_OUTBOUND_TLS_LEVELS}")
        self.routes = {domain.lower().rstrip("."): hop for domain, hop in routes.items()}
        self.listen = listen or loopback("127.0.0.1")
        self.workdir = make_workdir(workdir, "postfix")
        self.config_dir = self.workdir / "conf"
        self.maillog_path = self.workdir / "maillog"
        self._tls = tls
        self._ca_file = ca_file
        self._outbound_tls = outbound_tls
        self._hostname = hostname
        self._size_limit = message_size_limit
        self._tuning = dict(tuning or {})
        self._runtime: Path | None = None
        self._daemon: Daemon | None = None

    @property
    def pid(self) -> int | None:
        return None if self._daemon is None else self._daemon.pid

    def start(self) -> None:
        """Write the configuration, check it, start Postfix and wait for its SMTP greeting."""
        ensure_free(self.listen, udp=False)
        self._runtime = _runtime_folder()
        self._write_files(self._runtime)
        self._check()
        self._daemon = Daemon(
            "postfix",
            [binary("postfix"), "-c", str(self.config_dir), "start-fg"],
            workdir=self.workdir,
            ready=smtp_greets(self.listen),
        )
        try:
            self._daemon.start()
        except DaemonError as exc:
            self._remove_runtime()
            raise DaemonError(f"{exc}\nmaillog ends with:\n{self.maillog_tail()}") from exc

    def stop(self) -> None:
        """``postfix stop`` (master ends its workers), then stop the foreground process; the
        runtime folder (queue) is removed, the configuration and maillog stay."""
        if self._daemon is not None and self._daemon.running:
            with contextlib.suppress(ToolError):
                _run_on_tty([binary("postfix"), "-c", str(self.config_dir), "stop"])
            self._daemon.stop()
        self._remove_runtime()

    def queue(self) -> list[dict[str, Any]]:
        """The messages in the queue (``postqueue -j``: queue name, id, recipients and why
        each is delayed)."""
        output = run_tool([binary("postqueue"), "-c", str(self.config_dir), "-j"])
        return [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    def settle(self, timeout: float = 30.0) -> None:
        """Wait (up to ``timeout``) until no message is incoming or active: every message is
        delivered, bounced or in the deferred queue. A failed delivery is logged before the queue
        manager moves the message to the deferred queue."""
        deadline = time.monotonic() + timeout
        while any(m.get("queue_name") in ("incoming", "active") for m in self.queue()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"messages still being delivered:\n{self.maillog_tail()}")
            time.sleep(_POLL_SECONDS)

    def flush(self, timeout: float = 30.0) -> None:
        """Retry every deferred message now (``postqueue -f``) instead of at the next queue run,
        once the queue has settled (:meth:`settle`; a flush before would miss a message that
        is just being deferred)."""
        self.settle(timeout)
        _run_on_tty([binary("postqueue"), "-c", str(self.config_dir), "-f"])

    def maillog(self) -> str:
        """The maillog so far (empty before the first line is written)."""
        try:
            return self.maillog_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def maillog_tail(self, lines: int = 25) -> str:
        return "\n".join(self.maillog().splitlines()[-lines:]) or "(empty)"

    def wait_for_log(self, marker: str, timeout: float = 30.0, *, count: int = 1) -> list[str]:
        """The maillog lines containing ``marker``, once there are at least ``count``; polls the
        log and raises :class:`TimeoutError` (quoting the log's end) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.maillog().splitlines() if marker in line]
            if len(lines) >= count:
                return lines
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {marker!r} in the maillog:\n{self.maillog_tail()}")
            time.sleep(_POLL_SECONDS)

    def _write_files(self, runtime: Path) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        tls_files = None
        if self._tls is not None:
            tls_files = self._tls.write(self.config_dir, "smtpd")
        transport = "".join(f"{d} smtp:[{hop.host}]:{hop.port}\n" for d, hop in self.routes.items())
        (self.config_dir / "transport").write_text(transport)
        main_cf = render_main_cf(
            config_dir=self.config_dir,
            runtime=runtime,
            maillog=self.maillog_path,
            hostname=self._hostname,
            relay_domains=sorted(self.routes),
            tls_files=tls_files,
            ca_file=self._ca_file,
            outbound_tls=self._outbound_tls,
            message_size_limit=self._size_limit,
            tuning=self._tuning,
        )
        (self.config_dir / "main.cf").write_text(main_cf)
        (self.config_dir / "master.cf").write_text(render_master_cf(self.listen))

    def _check(self) -> None:
        _run_on_tty([binary("postfix"), "-c", str(self.config_dir), "check"])

    def _remove_runtime(self) -> None:
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None


def render_main_cf(
    *,
    config_dir: Path,
    runtime: Path,
    maillog: Path,
    hostname: str,
    relay_domains: list[str],
    tls_files: tuple[Path, Path] | None,
    ca_file: Path | None,
    outbound_tls: str,
    message_size_limit: int,
    tuning: Mapping[str, str] | None = None,
) -> str:
    """``main.cf`` (Postfix 3.7) for a loopback relay; the module docstring says why.
    ``tuning`` sets further parameters, replacing any of the same name."""
    lines = [
        "compatibility_level = 3.6",
        f"queue_directory = {runtime / 'queue'}",
        f"data_directory = {runtime / 'data'}",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        f"myhostname = {hostname}",
        "mydomain = lab.test",
        "myorigin = $myhostname",
        "mydestination =",
        "inet_interfaces = loopback-only",
        "inet_protocols = ipv4",
        "mynetworks = 127.0.0.0/8",
        f"relay_domains = {', '.join(relay_domains)}",
        f"transport_maps = texthash:{config_dir / 'transport'}",
        "default_transport = error:5.7.1 lab relay: no route outside the lab",
        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
        "smtpd_peername_lookup = no",
        "smtp_dns_support_level = disabled",
        "alias_maps =",
        "alias_database =",
        "local_recipient_maps =",
        "biff = no",
        "smtputf8_enable = no",
        f"message_size_limit = {message_size_limit}",
        f"maillog_file = {maillog}",
        f"maillog_file_prefixes = {maillog.parent}",
        f"smtp_tls_security_level = {outbound_tls}",
        "smtp_tls_loglevel = 1",
    ]
    if ca_file is not None:
        lines.append(f"smtp_tls_CAfile = {ca_file}")
    if tls_files is not None:
        cert, key = tls_files
        lines += [
            "smtpd_tls_security_level = may",
            f"smtpd_tls_cert_file = {cert}",
            f"smtpd_tls_key_file = {key}",
            "smtpd_tls_loglevel = 1",
        ]
    settings = {name.strip(): value.strip() for name, _, value in (x.partition("=") for x in lines)}
    settings.update(tuning or {})
    return "".join(f"{name} = {value}".rstrip() + "\n" for name, value in settings.items())


def render_master_cf(listen: Endpoint) -> str:
    """``master.cf``: smtpd bound to exactly ``listen``, and the internal services."""
    return f"{listen.host}:{listen.port} inet n - n - - smtpd\n{_SERVICES}"


def smtp_greets(server: Endpoint) -> Probe:
    """Ready when a connection to ``server`` is greeted with ``220`` (RFC 5321 §4.2)."""

    def probe() -> bool:
        try:
            with socket.create_connection(server, timeout=_ATTEMPT_SECONDS) as sock:
                return sock.recv(512).startswith(b"220")
        except OSError:
            return False

    return probe


def _runtime_folder() -> Path:
    """A new folder the ``postfix`` user can reach, holding the queue and the data directory."""
    runtime = Path(tempfile.mkdtemp(prefix="ms-postfix-"))
    runtime.chmod(0o755)
    data = runtime / "data"
    data.mkdir()
    postfix_user = pwd.getpwnam("postfix")
    os.chown(data, postfix_user.pw_uid, postfix_user.pw_gid)
    (runtime / "queue").mkdir()
    return runtime


def _run_on_tty(argv: list[str], timeout: float = 30.0) -> str:
    """Run a Postfix command whose error messages only go to a terminal; :class:`ToolError` with
    them when it fails. ``script`` (util-linux) provides the pseudo-terminal."""
    command = [binary("script"), "-qec", shlex.join(argv), "/dev/null"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"{shlex.join(argv)}: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise ToolError(f"{shlex.join(argv)} exited with {done.returncode}: {output}")
    return done.stdout
