"""A throwaway PostgreSQL cluster for tests.

:func:`running_cluster` runs ``initdb`` and ``pg_ctl`` (from ``/usr/lib/postgresql/*/bin``) in a
fresh temporary folder: trust authentication, TCP on 127.0.0.1 at a free port, the unix socket in
the same folder, durability switched off for speed. The cluster is stopped and deleted when the
block ends. PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user (created, unprivileged, if missing). A missing PostgreSQL skips the test, or fails it
under ``MAILSHIELD_REQUIRE_LAB=1`` (see :func:`tests.support.lab.require_binary`).

Use it through a session-scoped fixture::

    @pytest.fixture(scope="session")
    def postgres_cluster() -> Iterator[PostgresCluster]:
        with running_cluster() as cluster:
            yield cluster
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.lab import require_binary

SUPERUSER = "postgres"
SERVER_USER = "postgres"
START_ATTEMPTS = 3  # a free port may be taken by someone else before the server binds it
READY_DEADLINE = 60.0


class PostgresError(RuntimeError):
    """A PostgreSQL command failed; the message carries its output."""


@dataclass(frozen=True)
class PostgresCluster:
    """A running test cluster; connect as the trusted superuser ``postgres``."""

    bindir: Path
    root: Path
    port: int

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy asyncpg URL of ``database`` on this cluster."""
        return f"postgresql+asyncpg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self._client("createdb", name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting anyone still using it."""
        self._client("dropdb", "--if-exists", "--force", name)

    @contextmanager
    def scratch_database(self) -> Iterator[str]:
        """A new empty database for one test, dropped afterwards; yields its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        url = self.create_database(name)
        try:
            yield url
        finally:
            self.drop_database(name)

    def _client(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), "-h", str(self.root), "-p", str(self.port)]
        _run([*command, "-U", SUPERUSER, *args])


@contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """Initialise, start and finally stop and delete a private cluster."""
    bindir = require_binary("initdb").resolve().parent  # beside pg_ctl, pg_isready…
    root = Path(tempfile.mkdtemp(prefix="mailshield-pg-"))
    as_user = _server_user()
    try:
        if as_user is not None:
            shutil.chown(root, user=as_user, group=pwd.getpwnam(as_user).pw_gid)
        data = root / "data"
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust"]
        _run_as(as_user, [*initdb, "-E", "UTF8", "--locale=C", "--no-sync"])
        port = _start(bindir, root, as_user)
        try:
            _wait_ready(bindir, root, port)
            yield PostgresCluster(bindir=bindir, root=root, port=port)
        finally:
            pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
            _run_as(as_user, [*pg_ctl, "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start(bindir: Path, root: Path, as_user: str | None) -> int:
    """Start the server on a free port, retrying when the port was taken meanwhile."""
    log = root / "server.log"
    for _ in range(START_ATTEMPTS):
        port = _free_port()
        options = (
            f"-h 127.0.0.1 -p {port} -k {root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        command = [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(log)]
        try:
            _run_as(as_user, [*command, "-o", options, "-w", "-t", "60", "start"])
        except PostgresError:
            if "already in use" in _read(log):
                continue
            raise PostgresError(f"PostgreSQL did not start:\n{_read(log)}") from None
        return port
    raise PostgresError(f"no free port after {START_ATTEMPTS} attempts:\n{_read(log)}")


def _wait_ready(bindir: Path, root: Path, port: int) -> None:
    """Poll ``pg_isready`` until the server accepts connections (bounded)."""
    deadline = time.monotonic() + READY_DEADLINE
    command = [str(bindir / "pg_isready"), "-q", "-h", str(root), "-p", str(port), "-t", "5"]
    while subprocess.run(command, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise PostgresError(f"PostgreSQL not ready after {READY_DEADLINE} s")
        time.sleep(0.05)  # poll interval, not a guess at start-up time


def _server_user() -> str | None:
    """The user the server must run as: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        _run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER]
        )
    return SERVER_USER


def _run_as(user: str | None, command: Sequence[str]) -> None:
    _run(command if user is None else ["runuser", "-u", user, "--", *command])


def _run(command: Sequence[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise PostgresError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
