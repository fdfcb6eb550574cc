"""ACME account, certificates and orders for the policy server (hosting).

Revision ID: 0002
Revises: 0001
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types in mailshield.storage.columns (see 0001).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
NAME = sa.String(253)


def upgrade() -> None:
    op.create_table(
        "acme_accounts",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("directory_url", sa.String(2048), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("account_url", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acme_accounts")),
        sa.UniqueConstraint("directory_url", name=op.f("uq_acme_accounts_directory_url")),
    )
    op.create_table(
        "certificates",
        sa.Column("name", NAME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("fullchain_pem", sa.Text(), nullable=False),
        sa.Column("not_before", TIMESTAMP, nullable=False),
        sa.Column("not_after", TIMESTAMP, nullable=False),
        sa.Column("renew_at", TIMESTAMP, nullable=False),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_certificates")),
    )
    op.create_table(
        "certificate_orders",
        sa.Column("name", NAME, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_certificate_orders")),
    )
    op.create_table(
        "acme_challenges",
        sa.Column("token", sa.String(255), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("key_authorization", sa.Text(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_acme_challenges")),
    )


def downgrade() -> None:
    op.drop_table("acme_challenges")
    op.drop_table("certificate_orders")
    op.drop_table("certificates")
    op.drop_table("acme_accounts")
