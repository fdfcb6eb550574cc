"""Sessions, API tokens, password resets and plans.

Also login throttling (``login_failures``), proof of domain ownership (``domain_ownership``) and
the checks run for each dashboard domain (``domain_checks``).

Revision ID: 0005
Revises: 0004
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types in mailshield.storage.columns (see 0001).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
DIGEST = sa.String(64)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", DIGEST, nullable=False),
        sa.Column("user_id", ROW_ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        _user_fk("sessions"),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("user_id", ROW_ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("digest", DIGEST, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        _user_fk("api_tokens"),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("digest", DIGEST, nullable=False),
        sa.Column("user_id", ROW_ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_password_resets")),
        _user_fk("password_resets"),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("account", sa.String(320), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("failed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        op.f("ix_login_failures_account_failed_at"), "login_failures", ["account", "failed_at"]
    )
    op.create_index(
        op.f("ix_login_failures_client_failed_at"), "login_failures", ["client", "failed_at"]
    )
    op.create_table(
        "account_plans",
        sa.Column("user_id", ROW_ID, nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_account_plans")),
        _user_fk("account_plans"),
    )
    op.create_table(
        "domain_ownership",
        sa.Column("domain_id", ROW_ID, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("verified_at", TIMESTAMP, nullable=True),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("checked_at", TIMESTAMP, nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("domain_id", name=op.f("pk_domain_ownership")),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_domain_ownership_domain_id_domains"),
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "domain_checks",
        sa.Column("check_id", ROW_ID, nullable=False),
        sa.Column("domain_id", ROW_ID, nullable=False),
        sa.PrimaryKeyConstraint("check_id", "domain_id", name=op.f("pk_domain_checks")),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["check_reports.id"],
            name=op.f("fk_domain_checks_check_id_check_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_domain_checks_domain_id_domains"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_domain_checks_domain_id_check_id"), "domain_checks", ["domain_id", "check_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_domain_checks_domain_id_check_id"), table_name="domain_checks")
    op.drop_table("domain_checks")
    op.drop_table("domain_ownership")
    op.drop_table("account_plans")
    op.drop_index(op.f("ix_login_failures_client_failed_at"), table_name="login_failures")
    op.drop_index(op.f("ix_login_failures_account_failed_at"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_table("sessions")
