"""Initial schema: users, their domains, and stored check reports.

Revision ID: 0001
Revises:
Created: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types in mailshield.storage.columns: a migration must not change
# when application code does.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at", TIMESTAMP, nullable=False, server_default=sa.func.current_timestamp()
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "domains",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("owner_id", ROW_ID, nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column(
            "created_at", TIMESTAMP, nullable=False, server_default=sa.func.current_timestamp()
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_domains_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_domains_owner_id_name")),
    )
    op.create_table(
        "check_reports",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", JSON_DOCUMENT, nullable=False),
        sa.Column("observations", JSON_DOCUMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_reports")),
    )
    op.create_index(
        op.f("ix_check_reports_domain_checked_at"), "check_reports", ["domain", "checked_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_check_reports_domain_checked_at"), table_name="check_reports")
    op.drop_table("check_reports")
    op.drop_table("domains")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
