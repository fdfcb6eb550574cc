"""Tables of the account area (on the shared mailshield.storage.tables.metadata)."""

from __future__ import annotations
