"""Quarantined TLS reports: the served domains each was sent for, so its owner can see it.

Revision ID: 0007
Revises: 0006
Created: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copy of the row id type in mailshield.storage.columns (see 0001).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tlsrpt_quarantine_domains",
        sa.Column("raw_fk", ROW_ID, nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.PrimaryKeyConstraint("raw_fk", "domain", name=op.f("pk_tlsrpt_quarantine_domains")),
        sa.ForeignKeyConstraint(
            ["raw_fk"],
            ["tlsrpt_raw.id"],
            name=op.f("fk_tlsrpt_quarantine_domains_raw_fk_tlsrpt_raw"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_tlsrpt_quarantine_domains_domain_raw_fk"),
        "tlsrpt_quarantine_domains",
        ["domain", "raw_fk"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_tlsrpt_quarantine_domains_domain_raw_fk"), table_name="tlsrpt_quarantine_domains"
    )
    op.drop_table("tlsrpt_quarantine_domains")
