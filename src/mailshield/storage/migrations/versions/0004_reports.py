"""TLS-RPT reports, their normalized rows and the quarantine.

Revision ID: 0004
Revises: 0003
Created: 2026-11-29
"""

from __future__ import annotations

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Reserved in the revision chain; tables are added by the reports work."""


def downgrade() -> None:
    """Nothing to undo yet."""
