"""The schema as SQLAlchemy Core tables: the source the migrations are checked against.

Constraint and index names follow :data:`NAMING_CONVENTION`, so every migration can name what it
drops or alters on both databases (SQLite's table rebuilds need the names too).
Domain names are stored as lower-case A-labels without the trailing dot.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from mailshield.storage.columns import UTCDateTime, json_document, row_id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

DOMAIN_NAME_LENGTH = 253  # RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text

users = Table(
    "users",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("email", String(320), nullable=False),  # RFC 5321 §4.5.3.1: 64 + "@" + 255
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, server_default=func.current_timestamp()),
)
# One account per address whatever its case: enforced by the database, not by callers.
Index("uq_users_email_lower", func.lower(users.c.email), unique=True)

domains = Table(
    "domains",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column(
        "owner_id",
        row_id(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(DOMAIN_NAME_LENGTH), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, server_default=func.current_timestamp()),
    UniqueConstraint("owner_id", "name"),
)

check_reports = Table(
    "check_reports",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("domain", String(DOMAIN_NAME_LENGTH), nullable=False),
    Column("checked_at", UTCDateTime(), nullable=False),
    Column("score", Integer, nullable=False),
    Column("grade", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("report", json_document(), nullable=False),
    # What the probes saw, kept so a scoring change can re-score without probing again.
    Column("observations", json_document(), nullable=True),
)
Index(None, check_reports.c.domain, check_reports.c.checked_at)

# Tables of the other areas live in their own modules on the same metadata; importing them here
# keeps ``metadata`` complete for migrations and schema comparisons.
from mailshield.storage import account_tables as account_tables  # noqa: E402
from mailshield.storage import certificate_tables as certificate_tables  # noqa: E402
from mailshield.storage import hosting_tables as hosting_tables  # noqa: E402
from mailshield.storage import job_tables as job_tables  # noqa: E402
from mailshield.storage import report_tables as report_tables  # noqa: E402
