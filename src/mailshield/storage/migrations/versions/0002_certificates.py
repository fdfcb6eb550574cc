"""ACME account, certificates and orders for the policy server (hosting).

Revision ID: 0002
Revises: 0001
Created: 2026-11-29
"""

from __future__ import annotations

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Reserved in the revision chain; tables are added by the certificates work."""


def downgrade() -> None:
    """Nothing to undo yet."""
