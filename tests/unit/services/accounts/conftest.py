"""Account services on a migrated SQLite database, a settable clock and an in-memory outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from tests.support.fake_dns import Entry, FakeDns

from mailshield.services.account_domains import UserDomains
from mailshield.services.accounts import Accounts
from mailshield.services.api_tokens import ApiTokens
from mailshield.services.login_throttle import LoginThrottle
from mailshield.services.mailer import Mailer
from mailshield.services.passwords import Passwords
from mailshield.services.plans import Plans
from mailshield.services.sessions import Sessions
from mailshield.services.users import User
from mailshield.storage import Database
from mailshield.storage.account_domains import DomainStore
from mailshield.storage.accounts import AccountStore
from mailshield.storage.migrate import upgrade

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
POLICY_HOST = "mta-sts.mailshield.example"


@dataclass
class FakeClock:
    """A clock that moves only when told to."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Outbox:
    """A mail transport that keeps what it was given."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def deliver(self, message: EmailMessage) -> None:
        self.messages.append(message)


def fast_passwords() -> Passwords:
    """Argon2id with tiny parameters: the same code path, a fraction of the time."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'mailshield.db'}") as database:
        await upgrade(database)
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def store(db: Database) -> AccountStore:
    return AccountStore(db)


@pytest.fixture
def sessions(store: AccountStore, clock: FakeClock) -> Sessions:
    return Sessions(store, clock)


@pytest.fixture
def accounts(store: AccountStore, sessions: Sessions, clock: FakeClock, outbox: Outbox) -> Accounts:
    return Accounts(
        store,
        fast_passwords(),
        sessions,
        LoginThrottle(store, clock),
        Mailer(outbox, "mailshield@example.net"),
        reset_url=lambda secret: f"https://mailshield.example/password/reset/{secret}",
        clock=clock,
    )


@pytest.fixture
def tokens(store: AccountStore, clock: FakeClock) -> ApiTokens:
    return ApiTokens(store, clock)


@pytest.fixture
def plans(store: AccountStore, clock: FakeClock) -> Plans:
    return Plans(store, free_domains=2, clock=clock)


@pytest.fixture
def zone() -> dict[str, Entry]:
    """The DNS the domain service sees; tests add records to it as they go."""
    return {}


@pytest.fixture
def domains(db: Database, plans: Plans, zone: dict[str, Entry], clock: FakeClock) -> UserDomains:
    return UserDomains(
        DomainStore(db), plans, lambda: FakeDns(zone), policy_host=POLICY_HOST, clock=clock
    )


@pytest.fixture
async def ada(accounts: Accounts) -> User:
    return await accounts.sign_up("ada@example.com", "correct horse battery")


@pytest.fixture
async def bob(accounts: Accounts) -> User:
    return await accounts.sign_up("bob@example.com", "another long password")
