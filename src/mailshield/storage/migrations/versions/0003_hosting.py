"""Hosted MTA-STS domains, policies and DNS verification state.

Revision ID: 0003
Revises: 0002
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types in mailshield.storage.columns (see 0001).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
NAME = sa.String(253)
POLICY_ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "hosted_domains",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("domain_id", ROW_ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("setup", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("extra_mx", JSON_DOCUMENT, nullable=False),
        sa.Column("delegation_target", NAME, nullable=True),
        sa.Column("points_here", sa.Boolean(), nullable=False),
        sa.Column("checks", JSON_DOCUMENT, nullable=False),
        sa.Column("live_id", POLICY_ID, nullable=True),
        sa.Column("verified_at", TIMESTAMP, nullable=True),
        sa.Column("activated_at", TIMESTAMP, nullable=True),
        sa.Column("drift", JSON_DOCUMENT, nullable=True),
        sa.Column("removal_started_at", TIMESTAMP, nullable=True),
        sa.Column("delete_after", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosted_domains")),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_hosted_domains_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("domain_id", name=op.f("uq_hosted_domains_domain_id")),
        sa.UniqueConstraint("name", name=op.f("uq_hosted_domains_name")),
    )
    op.create_table(
        "hosted_policies",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("hosted_domain_id", ROW_ID, nullable=False),
        sa.Column("policy_id", POLICY_ID, nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("max_age", sa.Integer(), nullable=False),
        sa.Column("mx", JSON_DOCUMENT, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("served_from", TIMESTAMP, nullable=False),
        sa.Column("superseded_at", TIMESTAMP, nullable=True),
        sa.Column("txt_published_at", TIMESTAMP, nullable=True),
        sa.Column("txt_live_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosted_policies")),
        sa.ForeignKeyConstraint(
            ["hosted_domain_id"],
            ["hosted_domains.id"],
            name=op.f("fk_hosted_policies_hosted_domain_id_hosted_domains"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "hosted_domain_id",
            "policy_id",
            name=op.f("uq_hosted_policies_hosted_domain_id_policy_id"),
        ),
    )
    op.create_table(
        "hosting_events",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("hosted_domain_id", ROW_ID, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", JSON_DOCUMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_events")),
        sa.ForeignKeyConstraint(
            ["hosted_domain_id"],
            ["hosted_domains.id"],
            name=op.f("fk_hosting_events_hosted_domain_id_hosted_domains"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_hosting_events_hosted_domain_id_at"), "hosting_events", ["hosted_domain_id", "at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hosting_events_hosted_domain_id_at"), table_name="hosting_events")
    op.drop_table("hosting_events")
    op.drop_table("hosted_policies")
    op.drop_table("hosted_domains")
