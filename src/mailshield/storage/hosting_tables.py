"""Tables of the hosting area (on the shared mailshield.storage.tables.metadata)."""

from __future__ import annotations
