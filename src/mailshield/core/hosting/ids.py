"""Policy ids for hosted domains: new on every body change, never reused.

RFC 8461 §3.1: ``sts-id = %s"id=" 1*32(ALPHA / DIGIT)``; the id "MUST be changed" whenever the
policy changes, and senders compare it as an opaque string. Our ids read
``<UTC yyyymmddHHMMSS><first 8 hex digits of SHA-256 of the body>`` (22 characters): sortable by
eye, tied to the content, and different for two bodies made in the same second. The caller
passes every id the domain ever had; should one be taken anyway (the same body again within a
second, or a clock set back), a counter is appended so an id is never served twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import UTC, datetime

from mailshield.core.records.mta_sts import is_valid_id

MAX_ID_LENGTH = 32  # RFC 8461 §3.1
_HASH_DIGITS = 8


def new_policy_id(now: datetime, body: str, taken: Collection[str] = ()) -> str:
    """A valid id for ``body`` first served at ``now`` that is not in ``taken``.

    ``now`` must be aware; it is read in UTC. Raises ``ValueError`` for a naive time.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("give the time with a time zone")
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:_HASH_DIGITS]
    candidate = stamp + digest
    counter = 1
    while candidate in taken:
        counter += 1
        candidate = f"{stamp}{digest}{counter}"
    assert is_valid_id(candidate)  # 1-32 letters and digits, so within MAX_ID_LENGTH
    return candidate
