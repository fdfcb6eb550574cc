"""Tables of the certificate area (on the shared mailshield.storage.tables.metadata).

Everything the policy-server replicas must agree on lives here, so they share it through the
database: the ACME account per directory, the current certificate and key per name, the order
state per name (a lease so one order is in flight per name, failures and backoff), and the
HTTP-01 tokens any replica may be asked for (RFC 8555 §8.3).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text, UniqueConstraint

from mailshield.storage.columns import UTCDateTime, row_id
from mailshield.storage.tables import DOMAIN_NAME_LENGTH, metadata

URL_LENGTH = 2048
TOKEN_LENGTH = 255  # RFC 8555 §8.3: base64url, at least 128 bits; real tokens are 43 characters
LEASE_OWNER_LENGTH = 128

acme_accounts = Table(
    "acme_accounts",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("directory_url", String(URL_LENGTH), nullable=False),
    Column("key_pem", Text, nullable=False),
    Column("account_url", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("directory_url"),
)

certificates = Table(
    "certificates",
    metadata,
    Column("name", String(DOMAIN_NAME_LENGTH), primary_key=True),
    # Bumped on every replacement: servers compare it with what they cached.
    Column("version", Integer, nullable=False),
    Column("key_pem", Text, nullable=False),
    Column("fullchain_pem", Text, nullable=False),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("not_after", UTCDateTime(), nullable=False),
    Column("renew_at", UTCDateTime(), nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
)

certificate_orders = Table(
    "certificate_orders",
    metadata,
    Column("name", String(DOMAIN_NAME_LENGTH), primary_key=True),
    Column("lease_owner", String(LEASE_OWNER_LENGTH), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("last_attempt_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
)

acme_challenges = Table(
    "acme_challenges",
    metadata,
    Column("token", String(TOKEN_LENGTH), primary_key=True),
    Column("name", String(DOMAIN_NAME_LENGTH), nullable=False),
    Column("key_authorization", Text, nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
