"""Sign-up, log-in with throttling, password change and reset by e-mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailshield.services.account_errors import (
    BadCredentials,
    Conflict,
    InvalidInput,
    InvalidResetLink,
    SignupClosed,
    Throttled,
)
from mailshield.services.accounts import Accounts, normalise_email
from mailshield.services.login_throttle import ACCOUNT_LIMIT, CLIENT_LIMIT, WINDOW
from mailshield.services.sessions import Sessions
from mailshield.services.users import User
from mailshield.storage.accounts import AccountStore

from .conftest import FakeClock, Outbox

CLIENT = "192.0.2.10"
PASSWORD = "correct horse battery"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param("ada@example.com", "ada@example.com", id="plain"),
        pytest.param("  Ada@EXAMPLE.com ", "Ada@example.com", id="domain-lowered-local-kept"),
        pytest.param("ops@bücher.example", "ops@xn--bcher-kva.example", id="idn-domain"),
        pytest.param("a@b@example.com", "a@b@example.com", id="last-at-splits"),
    ],
)
def test_addresses_are_normalised(typed: str, stored: str) -> None:
    """The domain part becomes lower-case A-labels; the local part is kept as typed."""
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("", id="empty"),
        pytest.param("ada", id="no-at"),
        pytest.param("@example.com", id="no-local-part"),
        pytest.param("ada@", id="no-domain"),
        pytest.param("ada@localhost", id="single-label-domain"),
        pytest.param("a da@example.com", id="space-in-local-part"),
        pytest.param("ada@exa mple.com", id="space-in-domain"),
        pytest.param("x" * 65 + "@example.com", id="local-part-too-long"),
    ],
)
def test_bad_addresses_are_refused(typed: str) -> None:
    """Addresses that cannot receive mail are refused with a message about the address."""
    with pytest.raises(InvalidInput) as refused:
        normalise_email(typed)
    assert refused.value.field == "email"


async def test_sign_up_then_log_in(accounts: Accounts) -> None:
    """A new account can log in with its password, whatever the case of the address typed."""
    user = await accounts.sign_up("ada@example.com", PASSWORD)
    assert await accounts.log_in("ADA@example.com", PASSWORD, CLIENT) == user


async def test_the_password_is_stored_hashed(accounts: Accounts, store: AccountStore) -> None:
    """The stored hash is an argon2id string that does not contain the password."""
    user = await accounts.sign_up("ada@example.com", PASSWORD)
    record = await store.user_by_id(user.id)
    assert record is not None
    assert record.password_hash.startswith("$argon2id$")
    assert PASSWORD not in record.password_hash


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        pytest.param("ada@example.com", "short", InvalidInput, id="short-password"),
        pytest.param("ada@example.com", "ada@example.com", InvalidInput, id="password-is-address"),
        pytest.param("not an address", PASSWORD, InvalidInput, id="bad-address"),
        pytest.param("taken@example.com", PASSWORD, Conflict, id="address-taken"),
        pytest.param("TAKEN@example.com", PASSWORD, Conflict, id="address-taken-other-case"),
    ],
)
async def test_sign_up_refusals(
    accounts: Accounts, email: str, password: str, error: type[Exception]
) -> None:
    """Weak passwords, bad addresses and taken addresses are refused with a reason."""
    await accounts.sign_up("taken@example.com", PASSWORD)
    with pytest.raises(error):
        await accounts.sign_up(email, password)


async def test_sign_up_can_be_closed(
    store: AccountStore, sessions: Sessions, accounts: Accounts
) -> None:
    """With sign-up switched off no account is created."""
    closed = Accounts(
        store,
        accounts._passwords,
        sessions,
        accounts._throttle,
        accounts._mailer,
        reset_url=str,
        signup_enabled=False,
    )
    with pytest.raises(SignupClosed):
        await closed.sign_up("ada@example.com", PASSWORD)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("ada@example.com", "wrong password", id="wrong-password"),
        pytest.param("nobody@example.com", PASSWORD, id="unknown-address"),
    ],
)
async def test_wrong_credentials_fail_alike(
    accounts: Accounts, ada: User, email: str, password: str
) -> None:
    """An unknown address and a wrong password give the same error."""
    with pytest.raises(BadCredentials) as failed:
        await accounts.log_in(email, password, CLIENT)
    assert failed.value.message == "Wrong e-mail address or password."


async def test_an_account_is_throttled_after_repeated_failures(
    accounts: Accounts, ada: User, clock: FakeClock
) -> None:
    """After the account limit even the right password is refused, until the window passes."""
    for n in range(ACCOUNT_LIMIT):
        with pytest.raises(BadCredentials):
            await accounts.log_in(ada.email, "wrong password", f"198.51.100.{n}")
    with pytest.raises(Throttled) as throttled:
        await accounts.log_in(ada.email, PASSWORD, CLIENT)
    assert 0 < throttled.value.retry_after <= WINDOW.total_seconds()
    clock.advance(WINDOW + timedelta(seconds=1))
    assert await accounts.log_in(ada.email, PASSWORD, CLIENT) == ada


async def test_a_client_is_throttled_across_accounts(accounts: Accounts, ada: User) -> None:
    """One address failing against many accounts is stopped at the client limit."""
    for n in range(CLIENT_LIMIT):
        with pytest.raises(BadCredentials):
            await accounts.log_in(f"guess{n}@example.com", "wrong password", CLIENT)
    with pytest.raises(Throttled):
        await accounts.log_in(ada.email, PASSWORD, CLIENT)
    assert await accounts.log_in(ada.email, PASSWORD, "203.0.113.7") == ada


async def test_success_clears_the_account_failures(accounts: Accounts, ada: User) -> None:
    """Failures before a successful login do not count towards the next lock-out."""
    for _ in range(ACCOUNT_LIMIT - 1):
        with pytest.raises(BadCredentials):
            await accounts.log_in(ada.email, "wrong password", CLIENT)
    await accounts.log_in(ada.email, PASSWORD, CLIENT)
    for _ in range(ACCOUNT_LIMIT - 1):
        with pytest.raises(BadCredentials):
            await accounts.log_in(ada.email, "wrong password", CLIENT)
    assert await accounts.log_in(ada.email, PASSWORD, CLIENT) == ada


def reset_secret(outbox: Outbox) -> str:
    body = outbox.messages[-1].get_content()
    found = re.search(r"/password/reset/(\S+)", body)
    assert found is not None, body
    return found.group(1)


async def test_password_reset_by_mail(
    accounts: Accounts, sessions: Sessions, ada: User, outbox: Outbox
) -> None:
    """The mailed link sets a new password once, and ends the sessions open before it."""
    session = await sessions.open(ada)
    await accounts.request_reset("ADA@example.com")
    message = outbox.messages[-1]
    assert message["To"] == ada.email
    assert message["Auto-Submitted"] == "auto-generated"
    secret = reset_secret(outbox)
    assert await accounts.reset_target(secret) == ada
    await accounts.reset_password(secret, "a brand new password")
    assert await sessions.user_for(session) is None
    assert await accounts.log_in(ada.email, "a brand new password", CLIENT) == ada
    with pytest.raises(BadCredentials):
        await accounts.log_in(ada.email, PASSWORD, CLIENT)
    with pytest.raises(InvalidResetLink):
        await accounts.reset_password(secret, "yet another password")


async def test_reset_for_an_unknown_address_sends_nothing(
    accounts: Accounts, outbox: Outbox
) -> None:
    """Asking for a reset of an address without an account looks the same and mails nothing."""
    await accounts.request_reset("nobody@example.com")
    assert outbox.messages == []


async def test_reset_links_expire(
    accounts: Accounts, ada: User, outbox: Outbox, clock: FakeClock
) -> None:
    """A link older than an hour is refused."""
    await accounts.request_reset(ada.email)
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(InvalidResetLink):
        await accounts.reset_password(reset_secret(outbox), "a brand new password")


async def test_reset_requests_are_limited_per_account(
    accounts: Accounts, ada: User, outbox: Outbox
) -> None:
    """No more than three reset mails per account per hour."""
    for _ in range(5):
        await accounts.request_reset(ada.email)
    assert len(outbox.messages) == 3


async def test_a_reset_still_checks_the_new_password(
    accounts: Accounts, ada: User, outbox: Outbox
) -> None:
    """A weak new password is refused and the link stays usable."""
    await accounts.request_reset(ada.email)
    secret = reset_secret(outbox)
    with pytest.raises(InvalidInput):
        await accounts.reset_password(secret, "short")
    await accounts.reset_password(secret, "a brand new password")


async def test_change_password(accounts: Accounts, sessions: Sessions, ada: User) -> None:
    """Changing the password needs the current one and ends existing sessions."""
    session = await sessions.open(ada)
    with pytest.raises(BadCredentials):
        await accounts.change_password(ada, "wrong password", "a brand new password")
    await accounts.change_password(ada, PASSWORD, "a brand new password")
    assert await sessions.user_for(session) is None
    assert await accounts.log_in(ada.email, "a brand new password", CLIENT) == ada
