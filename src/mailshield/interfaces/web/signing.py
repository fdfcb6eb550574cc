"""HMAC signatures with the instance secret, one purpose string per use.

A signature made for one purpose ("csrf", "flash", "check") never verifies for another, so a
value signed for a check link cannot be replayed as a CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: bytes, purpose: str, value: str, *, length: int = 64) -> str:
    """The hex HMAC-SHA256 of ``value`` for ``purpose``, cut to ``length`` characters."""
    mac = hmac.new(secret, f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:length]


def verify(secret: bytes, purpose: str, value: str, signature: str, *, length: int = 64) -> bool:
    """Whether ``signature`` is :func:`sign` of ``value`` (compared in constant time)."""
    expected = sign(secret, purpose, value, length=length)
    return hmac.compare_digest(expected, signature)
