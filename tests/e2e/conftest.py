"""Browser tests: Debian's Chromium driven by Playwright against a real ``mailshield serve``.

One lab (``dashboard.toml``: DNS on a free port, MX hosts on a shared free port, policy hosts on
443 as RFC 8461 §3.3 requires), one SMTP sink that captures account mail, and one server process
configured with the lab resolver, the lab CA and ``allow_private``, per test module. Screenshots
go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from tests.support.lab import require_binary
from tests.support.lab_world import lab_world_thread

from mailshield.lab.endpoint import free_port
from mailshield.lab.runner import Lab
from mailshield.lab.scenario import Ports, load_scenario

SCENARIO = Path(__file__).parent / "dashboard.toml"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
POLICY_HOST = "policy.mailshield.test"
START_DEADLINE = 60.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAILSHIELD = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]


def _free_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The dashboard lab; policy hosts need port 443, so this needs root."""
    if os.geteuid() != 0:
        if os.environ.get("MAILSHIELD_REQUIRE_LAB") == "1":
            pytest.fail("policy hosts must listen on port 443, which needs root")
        pytest.skip("policy hosts must listen on port 443, which needs root")
    world = load_scenario(SCENARIO)
    ports = Ports(0, free_port(world.mx_hosts[0].addresses[0]), 443)
    with lab_world_thread(world, tmp_path_factory.mktemp("lab"), ports=ports) as running:
        yield running


@dataclass
class MailSink:
    """Keeps every message delivered to it."""

    port: int = 0
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def last_text(self) -> str:
        message = self.messages[-1]
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode()


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink(port=_free_local_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass(frozen=True)
class Server:
    url: str
    log: Path


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # poll interval while the server starts
    pytest.fail(f"serve did not become healthy in {START_DEADLINE} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(
    lab: Lab, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``mailshield serve`` checking the lab, sending account mail to the sink."""
    port = _free_local_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSHIELD_")}
    env |= {
        "MAILSHIELD_DATA_DIR": str(folder / "data"),
        "MAILSHIELD_HOST": "127.0.0.1",
        "MAILSHIELD_PORT": str(port),
        "MAILSHIELD_PUBLIC_URL": url,
        "MAILSHIELD_AUTO_MIGRATE": "true",
        "MAILSHIELD_RESOLVERS": ",".join(lab.resolvers),
        "MAILSHIELD_CA_BUNDLE": str(lab.ca_path),
        "MAILSHIELD_ALLOW_PRIVATE": "true",
        "MAILSHIELD_SMTP_PORT": str(lab.ports.smtp),
        "MAILSHIELD_DNSSEC_VALIDATION": "no",
        "MAILSHIELD_DNS_TIMEOUT": "1.0",
        "MAILSHIELD_CHECK_TIMEOUT": "3.0",
        "MAILSHIELD_MAIL_HOST": "127.0.0.1",
        "MAILSHIELD_MAIL_PORT": str(mail_sink.port),
        "MAILSHIELD_POLICY_HOST": POLICY_HOST,
        "MAILSHIELD_FREE_PLAN_DOMAINS": "2",
        "MAILSHIELD_CHECK_RATE_LIMIT": "100",
    }
    log = folder / "serve.log"
    with (
        log.open("wb") as output,
        subprocess.Popen([*MAILSHIELD, "serve"], env=env, stdout=output, stderr=output) as process,
    ):
        try:
            _wait_until_healthy(process, url, log)
            yield Server(url, log)
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    executable = require_binary("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def shoot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot of the page as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
