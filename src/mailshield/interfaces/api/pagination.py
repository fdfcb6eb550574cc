"""Opaque cursors for paged lists: the last id seen, base64url-encoded with a kind tag.

Clients pass back ``next_cursor`` as ``cursor``; they never build one. A cursor that does not
decode, or belongs to another list, is refused (``invalid-cursor`` problem).
"""

from __future__ import annotations

import base64
import binascii

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class InvalidCursor(ValueError):
    """The cursor was not one this API handed out for this list."""


def encode(kind: str, last_id: int | None) -> str | None:
    if last_id is None:
        return None
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def decode(kind: str, cursor: str | None) -> int | None:
    """The id a cursor carries; ``None`` for no cursor; InvalidCursor for anything else."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidCursor(cursor) from None
    tag, _, number = text.partition(":")
    if tag != kind or not number.isdigit() or len(number) > 19:
        raise InvalidCursor(cursor)
    return int(number)
