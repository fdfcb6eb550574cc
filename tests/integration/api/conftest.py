"""The whole application in-process (httpx over ASGI), with a migrated SQLite database.

The parts that reach outside are replaced: the checker returns a canned report, DNS is a
:class:`FakeDns` the test can fill, mail goes to an in-memory outbox and passwords are hashed
with cheap argon2 parameters. ``Tenant`` bundles a signed-up user with an API token.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from tests.support.fake_dns import Entry, FakeDns

from mailshield.core.catalogue import mta_sts
from mailshield.core.findings import finding
from mailshield.core.model import CheckResult, Finding, Report, Status
from mailshield.interfaces.api.app import create_app
from mailshield.interfaces.api.container import AppServices, Overrides
from mailshield.services.passwords import Passwords
from mailshield.services.settings import Settings, load_settings
from mailshield.services.users import User
from mailshield.storage import Database
from mailshield.storage.migrate import upgrade

BASE_URL = "http://mailshield.test"
POLICY_HOST = "mta-sts.mailshield.test"
PASSWORD = "correct horse battery"


def canned_report(domain: str) -> Report:
    """A report with a failure (and its fix), a warning and a pass, like a real mixed domain."""
    missing = finding(mta_sts.RECORD_MISSING, f"_mta-sts.{domain}")
    results = (
        CheckResult("mx", (Finding("mx.present", Status.PASS, domain, {}, "MX records found."),)),
        CheckResult("mta_sts", (missing,)),
        CheckResult(
            "spf",
            (Finding("spf.soft", Status.WARN, domain, {}, "SPF ends in ~all.", "v=spf1 mx -all"),),
        ),
    )
    return Report(domain, datetime.now(UTC), results, 72, "C")


class CannedChecker:
    def __init__(self) -> None:
        self.checked: list[str] = []

    async def check(self, domain: str) -> Report:
        self.checked.append(domain)
        return canned_report(domain)


@dataclass
class Outbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def deliver(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def last_link(self) -> str:
        found = re.search(r"https?://\S+", self.messages[-1].get_content())
        assert found is not None
        return found.group(0)


@dataclass
class World:
    """The running application and its replaceable parts."""

    app: FastAPI
    client: httpx.AsyncClient
    checker: CannedChecker
    zone: dict[str, Entry]
    outbox: Outbox

    @property
    def services(self) -> AppServices:
        found: AppServices = self.app.state.services
        return found

    def browser(self) -> httpx.AsyncClient:
        """Another client (its own cookies) on the same application."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=("192.0.2.80", 4321)),
            base_url=BASE_URL,
        )


@dataclass
class Tenant:
    user: User
    token: str
    headers: dict[str, str]


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'mailshield.db'}",
        "public_url": BASE_URL,
        "policy_host": POLICY_HOST,
        "free_plan_domains": 2,
        "check_rate_limit": 5,
    }
    return load_settings(**(values | overrides))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    checker, zone, outbox = CannedChecker(), {}, Outbox()
    overrides = Overrides(
        checker=lambda: checker,
        dns=lambda: FakeDns(zone),
        mail=outbox,
        passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)),
    )
    async with Database(settings.effective_database_url) as db:
        await upgrade(db)
        app = create_app(settings, db, overrides=overrides)
        transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 1234))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
        ):
            yield World(app, client, checker, zone, outbox)


async def new_tenant(world: World, email: str) -> Tenant:
    user = await world.services.accounts.sign_up(email, PASSWORD)
    created = await world.services.tokens.create(user, "tests")
    return Tenant(user, created.secret, {"Authorization": f"Bearer {created.secret}"})


@pytest.fixture
async def ada(world: World) -> Tenant:
    return await new_tenant(world, "ada@example.com")


@pytest.fixture
async def bob(world: World) -> Tenant:
    return await new_tenant(world, "bob@example.com")
