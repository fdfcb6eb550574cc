"""Sessions, API tokens, password resets and plans.

Revision ID: 0005
Revises: 0004
Created: 2026-11-29
"""

from __future__ import annotations

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Reserved in the revision chain; tables are added by the accounts work."""


def downgrade() -> None:
    """Nothing to undo yet."""
