"""Rolling out a policy change: serve the new body first, then publish its id (RFC 8461 §8.1).

Senders fetch the body only after they see a new id, so the id must not appear before every
policy server replica (and any cache in front of it) serves the new body. The policy server
answers with ``Cache-Control: max-age=60`` (the §8.2 guidance for proxied endpoints), so the
delegated TXT is written no sooner than :data:`BODY_FIRST_DELAY` after the body changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mailshield.core.hosting.model import PolicyVersion

BODY_FIRST_DELAY = timedelta(seconds=120)  # twice the policy server's Cache-Control max-age


def txt_due(version: PolicyVersion, now: datetime, delay: timedelta = BODY_FIRST_DELAY) -> bool:
    """Whether MailShield should now write ``version``'s id to the delegated TXT record."""
    return (
        version.current
        and version.txt_published_at is None
        and (now >= version.served_from + delay)
    )


def publish_after(version: PolicyVersion, delay: timedelta = BODY_FIRST_DELAY) -> datetime:
    """The earliest time ``version``'s id may be published."""
    return version.served_from + delay
