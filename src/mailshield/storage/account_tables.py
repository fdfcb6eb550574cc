"""Tables of the account area (on the shared mailshield.storage.tables.metadata).

Secrets never reach the database in clear: session cookies, API tokens and password-reset
tokens are stored as their SHA-256 digests (64 hex characters), so a leaked table cannot be
replayed. ``domain_checks`` ties stored checks to the dashboard domain they were run for.
``account_plans`` holds only users off the default (free) plan. ``domain_ownership``
keeps, per dashboard domain, the token the owner publishes in DNS and whether it was seen.
``login_failures`` is the sliding window behind login throttling, shared by every replica.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from mailshield.storage.columns import UTCDateTime, row_id
from mailshield.storage.tables import metadata

DIGEST_LENGTH = 64  # SHA-256 as hex
EMAIL_LENGTH = 320  # RFC 5321 §4.5.3.1: 64 + "@" + 255
CLIENT_LENGTH = 64  # an IPv6 address in text is at most 45 characters
TOKEN_NAME_LENGTH = 100
PLAN_LENGTH = 32
OWNERSHIP_TOKEN_LENGTH = 64
METHOD_LENGTH = 16


def _user_id() -> Column[int]:
    return Column("user_id", row_id(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


sessions = Table(
    "sessions",
    metadata,
    Column("id", String(DIGEST_LENGTH), primary_key=True),
    _user_id(),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
Index(None, sessions.c.user_id)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", row_id(), primary_key=True),
    _user_id(),
    Column("name", String(TOKEN_NAME_LENGTH), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("digest", String(DIGEST_LENGTH), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime(), nullable=True),
    UniqueConstraint("digest"),
)
Index(None, api_tokens.c.user_id)

password_resets = Table(
    "password_resets",
    metadata,
    Column("digest", String(DIGEST_LENGTH), primary_key=True),
    _user_id(),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)
Index(None, password_resets.c.user_id)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("account", String(EMAIL_LENGTH), nullable=False),  # the e-mail as typed, lower case
    Column("client", String(CLIENT_LENGTH), nullable=False),
    Column("failed_at", UTCDateTime(), nullable=False),
)
Index(None, login_failures.c.account, login_failures.c.failed_at)
Index(None, login_failures.c.client, login_failures.c.failed_at)

account_plans = Table(
    "account_plans",
    metadata,
    Column("user_id", row_id(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("plan", String(PLAN_LENGTH), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

# The checks run for a dashboard domain (by its owner, or on the owner's behalf). A domain's
# history is these, not every check of the name: another tenant, or a visitor of the public
# form, checking the same name adds nothing to it.
domain_checks = Table(
    "domain_checks",
    metadata,
    Column(
        "check_id",
        row_id(),
        ForeignKey("check_reports.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("domain_id", row_id(), ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
)
Index(None, domain_checks.c.domain_id, domain_checks.c.check_id)

domain_ownership = Table(
    "domain_ownership",
    metadata,
    Column("domain_id", row_id(), ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
    Column("token", String(OWNERSHIP_TOKEN_LENGTH), nullable=False),
    Column("verified_at", UTCDateTime(), nullable=True),
    Column("method", String(METHOD_LENGTH), nullable=True),  # "txt" or "cname"
    Column("checked_at", UTCDateTime(), nullable=True),
    Column("problem", Text, nullable=True),  # what the last failed attempt saw
)
