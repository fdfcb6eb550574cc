"""Scheduler: one lease row per periodic job, so replicas never run the same job at once.

Revision ID: 0006
Revises: 0005
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("leased_until", TIMESTAMP, nullable=True),
        sa.Column("next_run_at", TIMESTAMP, nullable=True),
        sa.Column("last_started", TIMESTAMP, nullable=True),
        sa.Column("last_finished", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
