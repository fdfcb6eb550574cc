"""Passwords: argon2id hashing and the few rules a new password must meet.

Hashes are argon2id strings with the argon2-cffi defaults (RFC 9106 §4 second recommended
option: 64 MiB, 3 passes). Hashing takes tens of milliseconds of CPU, so it runs in a worker
thread and never stalls the event loop. Rules follow NIST SP 800-63B §5.1.1.2: a minimum length,
a generous maximum, no composition rules, and no password equal to the account's own address.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # generous, yet bounds the work an attacker can make us hash

# A hash of a random password, verified when no account matches, so that "no such user" takes
# as long as "wrong password" and the response time does not reveal which addresses exist.
_DECOY_PASSWORD = "decoy password never used by anyone"  # noqa: S105


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether a password matched, and whether its hash should be upgraded to today's params."""

    ok: bool
    rehash: bool = False


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` may not be used, or ``None`` when it may."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if email and password.strip().lower() == email.strip().lower():
        return "Do not use your e-mail address as the password."
    return None


class Passwords:
    """Hashes and verifies passwords; pass a cheaper ``hasher`` in tests."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> Verification:
        """Check ``password`` against ``password_hash``; an unusable hash never matches."""
        return await asyncio.to_thread(self._verify, password_hash, password)

    async def decoy(self, password: str) -> None:
        """Spend the time of one verification, for callers that found no account."""
        if self._decoy is None:
            self._decoy = await self.hash(_DECOY_PASSWORD)
        await self.verify(self._decoy, password)

    def _verify(self, password_hash: str, password: str) -> Verification:
        try:
            self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return Verification(ok=False)
        return Verification(ok=True, rehash=self._hasher.check_needs_rehash(password_hash))
