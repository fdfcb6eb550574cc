"""Hosted MTA-STS domains, policies and DNS verification state.

Revision ID: 0003
Revises: 0002
Created: 2026-11-29
"""

from __future__ import annotations

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Reserved in the revision chain; tables are added by the hosting work."""


def downgrade() -> None:
    """Nothing to undo yet."""
