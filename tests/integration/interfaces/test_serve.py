"""``mailshield serve`` as a real process: the migration gate, then a healthy server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import click
import httpx
import pytest
from sqlalchemy import text

from mailshield.interfaces.cli.serve import ensure_schema
from mailshield.storage import Database
from mailshield.storage.migrate import head_revision, upgrade

START_DEADLINE = 60.0
MAILSHIELD = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The caller's environment without MailShield settings, plus a private data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env |= {"MAILSHIELD_DATA_DIR": str(data_dir), "MAILSHIELD_PORT": str(port)}
    env |= {"MAILSHIELD_HOST": "127.0.0.1", **extra}
    return env


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll the port until the server accepts connections; fail if it exits or takes too long."""
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # poll interval
    pytest.fail(
        f"serve did not listen on port {port} within {START_DEADLINE} s:\n{log.read_text()}"
    )


@pytest.fixture
def auto_migrating_server(tmp_path: Path) -> Iterator[int]:
    """A ``serve`` process on a new SQLite file with auto-migration on; yields its port."""
    port = free_port()
    env = serve_environment(tmp_path / "data", port, MAILSHIELD_AUTO_MIGRATE="true")
    log = tmp_path / "serve.log"
    with (
        log.open("wb") as output,
        subprocess.Popen([*MAILSHIELD, "serve"], env=env, stdout=output, stderr=output) as process,
    ):
        try:
            wait_until_listening(process, port, log)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    """Without auto-migration, serve exits 1 and names the command that fixes the schema."""
    env = serve_environment(tmp_path / "data", free_port())
    result = subprocess.run(
        [*MAILSHIELD, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "mailshield db upgrade" in result.stderr
    assert "MAILSHIELD_AUTO_MIGRATE" in result.stderr


def test_serve_migrates_then_reports_healthy(auto_migrating_server: int) -> None:
    """With auto-migration, serve migrates, listens, and /healthz says the database answers."""
    response = httpx.get(f"http://127.0.0.1:{auto_migrating_server}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'mailshield.db'}") as db:
        yield db


async def test_gate_passes_a_migrated_database(database: Database) -> None:
    """An up-to-date schema passes the gate without auto-migration."""
    await upgrade(database)
    status = await ensure_schema(database, auto_migrate=False)
    assert status.current == head_revision()


async def test_gate_migrates_when_allowed(database: Database) -> None:
    """With auto-migration the gate applies pending migrations."""
    status = await ensure_schema(database, auto_migrate=True)
    assert status.up_to_date


async def test_gate_refuses_a_schema_from_a_newer_version(database: Database) -> None:
    """A revision this version does not know stops the server even with auto-migration."""
    await upgrade(database)
    async with database.transaction() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(click.ClickException, match="9999"):
        await ensure_schema(database, auto_migrate=True)
