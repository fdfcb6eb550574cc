"""TLS-RPT reports, their normalized rows and the quarantine.

Revision ID: 0004
Revises: 0003
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types in mailshield.storage.columns (see 0001).
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
SHA256 = sa.String(64)


def upgrade() -> None:
    _create_reports()
    _create_raw()
    _create_policies()
    _create_failures()


def _create_reports() -> None:
    op.create_table(
        "tlsrpt_reports",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("dedupe_key", SHA256, nullable=False),
        sa.Column("organization_name", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Text(), nullable=False),
        sa.Column("contact_info", sa.Text(), nullable=True),
        sa.Column("start_at", TIMESTAMP, nullable=True),
        sa.Column("end_at", TIMESTAMP, nullable=True),
        sa.Column("day_at", TIMESTAMP, nullable=False),
        sa.Column("fingerprint", SHA256, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("notes", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlsrpt_reports")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_tlsrpt_reports_dedupe_key")),
    )
    op.create_index(op.f("ix_tlsrpt_reports_day_at"), "tlsrpt_reports", ["day_at"])


def _create_raw() -> None:
    op.create_table(
        "tlsrpt_raw",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("meta", JSON_DOCUMENT, nullable=True),
        sa.Column("report_fk", ROW_ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlsrpt_raw")),
        sa.ForeignKeyConstraint(
            ["report_fk"],
            ["tlsrpt_reports.id"],
            name=op.f("fk_tlsrpt_raw_report_fk_tlsrpt_reports"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(op.f("ix_tlsrpt_raw_sha256"), "tlsrpt_raw", ["sha256"])
    op.create_index(op.f("ix_tlsrpt_raw_state_id"), "tlsrpt_raw", ["state", "id"])
    op.create_index(op.f("ix_tlsrpt_raw_received_at"), "tlsrpt_raw", ["received_at"])
    op.create_index(op.f("ix_tlsrpt_raw_report_fk"), "tlsrpt_raw", ["report_fk"])


def _create_policies() -> None:
    op.create_table(
        "tlsrpt_policies",
        sa.Column("report_fk", ROW_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("policy_type", sa.Text(), nullable=False),
        sa.Column("policy_domain", sa.String(253), nullable=True),
        sa.Column("policy_strings", JSON_DOCUMENT, nullable=False),
        sa.Column("mx_hosts", JSON_DOCUMENT, nullable=False),
        sa.Column("successful_sessions", sa.BigInteger(), nullable=False),
        sa.Column("failed_sessions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("report_fk", "position", name=op.f("pk_tlsrpt_policies")),
        sa.ForeignKeyConstraint(
            ["report_fk"],
            ["tlsrpt_reports.id"],
            name=op.f("fk_tlsrpt_policies_report_fk_tlsrpt_reports"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_tlsrpt_policies_policy_domain"), "tlsrpt_policies", ["policy_domain"])


def _create_failures() -> None:
    op.create_table(
        "tlsrpt_failures",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("report_fk", ROW_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("result_type", sa.Text(), nullable=False),
        sa.Column("failed_sessions", sa.BigInteger(), nullable=False),
        sa.Column("sending_mta_ip", sa.Text(), nullable=True),
        sa.Column("receiving_mx_hostname", sa.Text(), nullable=True),
        sa.Column("receiving_mx_helo", sa.Text(), nullable=True),
        sa.Column("receiving_ip", sa.Text(), nullable=True),
        sa.Column("additional_information", sa.Text(), nullable=True),
        sa.Column("failure_reason_code", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlsrpt_failures")),
        sa.ForeignKeyConstraint(
            ["report_fk", "position"],
            ["tlsrpt_policies.report_fk", "tlsrpt_policies.position"],
            name=op.f("fk_tlsrpt_failures_report_fk_tlsrpt_policies"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_tlsrpt_failures_report_fk_position"),
        "tlsrpt_failures",
        ["report_fk", "position"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tlsrpt_failures_report_fk_position"), table_name="tlsrpt_failures")
    op.drop_table("tlsrpt_failures")
    op.drop_index(op.f("ix_tlsrpt_policies_policy_domain"), table_name="tlsrpt_policies")
    op.drop_table("tlsrpt_policies")
    for index in ("report_fk", "received_at", "state_id", "sha256"):
        op.drop_index(op.f(f"ix_tlsrpt_raw_{index}"), table_name="tlsrpt_raw")
    op.drop_table("tlsrpt_raw")
    op.drop_index(op.f("ix_tlsrpt_reports_day_at"), table_name="tlsrpt_reports")
    op.drop_table("tlsrpt_reports")
