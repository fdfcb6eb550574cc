"""Accounts: sign up, log in, change a password, and reset a forgotten one by e-mail.

Passwords are hashed with argon2id (:mod:`mailshield.services.passwords`); logins are throttled
per account and per client address (:mod:`mailshield.services.login_throttle`). Answers never
reveal whether an address has an account: a wrong address and a wrong password fail alike (in
the same time), and a reset request for an unknown address "succeeds" without sending anything.
A reset link holds 256 random bits, is stored as a digest, works once and for one hour, and
using it ends every session of the account (OWASP Forgot Password Cheat Sheet).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.account_errors import (
    BadCredentials,
    Conflict,
    InvalidInput,
    InvalidResetLink,
    SignupClosed,
)
from mailshield.services.clock import Clock, utc_now
from mailshield.services.login_throttle import LoginThrottle
from mailshield.services.mailer import Mail, Mailer
from mailshield.services.passwords import Passwords, password_problem
from mailshield.services.sessions import SECRET_BYTES, Sessions, digest
from mailshield.services.users import User, user_from
from mailshield.storage.accounts import AccountStore, UserRecord

RESET_LIFETIME = timedelta(hours=1)
RESETS_PER_HOUR = 3  # per account: a reset form must not become a way to flood someone's inbox
MAX_EMAIL_LENGTH = 320  # RFC 5321 §4.5.3.1.1-2: 64 + "@" + 255
MAX_LOCAL_PART = 64


def normalise_email(text: str) -> str:
    """``text`` as a stored address: trimmed, domain in lower-case A-labels; else InvalidInput."""
    address = text.strip()
    local, at, domain = address.rpartition("@")
    problem = None
    if not at or not local or not domain:
        problem = "Enter an e-mail address like name@example.com."
    elif len(local) > MAX_LOCAL_PART or any(c.isspace() or ord(c) < 32 for c in local):
        problem = "The part before the @ is not valid."
    else:
        try:
            domain = to_alabel(domain)
        except InvalidName:
            problem = "The part after the @ is not a valid domain name."
        if problem is None and "." not in domain:
            problem = "The part after the @ must be a full domain name, like example.com."
    if problem is not None:
        raise InvalidInput(problem, field="email")
    address = f"{local}@{domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidInput("That e-mail address is too long.", field="email")
    return address


def _check_password(password: str, email: str) -> None:
    problem = password_problem(password, email)
    if problem is not None:
        raise InvalidInput(problem, field="password")


class Accounts:
    """The account service; ``reset_url`` turns a reset secret into the link that is mailed."""

    def __init__(
        self,
        store: AccountStore,
        passwords: Passwords,
        sessions: Sessions,
        throttle: LoginThrottle,
        mailer: Mailer,
        *,
        reset_url: Callable[[str], str],
        signup_enabled: bool = True,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._sessions = sessions
        self._throttle = throttle
        self._mailer = mailer
        self._reset_url = reset_url
        self._signup_enabled = signup_enabled
        self._clock = clock

    @property
    def signup_enabled(self) -> bool:
        return self._signup_enabled

    async def sign_up(self, email: str, password: str) -> User:
        """Create an account; raises SignupClosed, InvalidInput or Conflict."""
        if not self._signup_enabled:
            raise SignupClosed("Sign-up is closed on this MailShield instance.")
        address = normalise_email(email)
        _check_password(password, address)
        password_hash = await self._passwords.hash(password)
        record = await self._store.create_user(address, password_hash, self._clock())
        if record is None:
            raise Conflict("An account with this e-mail address exists already. Log in instead.")
        return _user(record)

    async def log_in(self, email: str, password: str, client: str) -> User:
        """The user these credentials belong to; raises Throttled or BadCredentials."""
        await self._throttle.check(email, client)
        record = await self._store.user_by_email(email.strip())
        if record is None:
            await self._passwords.decoy(password)
        else:
            verdict = await self._passwords.verify(record.password_hash, password)
            if verdict.ok:
                await self._throttle.succeeded(email)
                if verdict.rehash:
                    await self._store.set_password(record.id, await self._passwords.hash(password))
                return _user(record)
        await self._throttle.failed(email, client)
        raise BadCredentials("Wrong e-mail address or password.")

    async def change_password(self, actor: User, current: str, new: str) -> None:
        """Replace the actor's password after checking the current one; ends other sessions."""
        record = await self._store.user_by_id(actor.id)
        if record is None or not (await self._passwords.verify(record.password_hash, current)).ok:
            raise BadCredentials("The current password is wrong.")
        _check_password(new, record.email)
        await self._store.set_password(actor.id, await self._passwords.hash(new))
        await self._sessions.close_all(actor)

    async def request_reset(self, email: str) -> None:
        """Mail a reset link when the address has an account; silently nothing otherwise."""
        record = await self._store.user_by_email(email.strip())
        if record is None:
            return
        now = self._clock()
        if await self._store.recent_resets(record.id, now - timedelta(hours=1)) >= RESETS_PER_HOUR:
            return
        secret = secrets.token_urlsafe(SECRET_BYTES)
        await self._store.add_reset(digest(secret), record.id, now, now + RESET_LIFETIME)
        await self._mailer.send(_reset_mail(record.email, self._reset_url(secret)))

    async def reset_target(self, secret: str) -> User:
        """The user a reset link is for (without using it); raises InvalidResetLink."""
        record = await self._store.reset_user(digest(secret), self._clock())
        if record is None:
            raise InvalidResetLink(_EXPIRED)
        return _user(record)

    async def reset_password(self, secret: str, new: str) -> User:
        """Set a new password through a reset link; ends every session of the account."""
        target = await self.reset_target(secret)
        _check_password(new, target.email)
        password_hash = await self._passwords.hash(new)
        user_id = await self._store.consume_reset(digest(secret), self._clock())
        if user_id is None:
            raise InvalidResetLink(_EXPIRED)
        await self._store.set_password(user_id, password_hash)
        await self._sessions.close_all(target)
        await self._throttle.succeeded(target.email)
        return target

    async def user(self, user_id: int) -> User | None:
        return user_from(await self._store.user_by_id(user_id))


_EXPIRED = "This password-reset link is invalid, used or expired. Ask for a new one."


def _user(record: UserRecord) -> User:
    user = user_from(record)
    assert user is not None
    return user


def _reset_mail(to: str, link: str) -> Mail:
    minutes = int(RESET_LIFETIME.total_seconds() // 60)
    text = (
        "Someone (hopefully you) asked to reset the password of your MailShield account.\n\n"
        f"Choose a new password here (the link works once, for {minutes} minutes):\n\n"
        f"{link}\n\n"
        "If you did not ask for this, ignore this message: your password stays as it is.\n"
    )
    return Mail(to=to, subject="Reset your MailShield password", text=text)
