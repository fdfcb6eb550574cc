"""Persistence on SQLite or PostgreSQL through the same code and migrations.

- :class:`Database`: the engine and its connections (``connect`` for reads, ``transaction``
  for writes).
- :mod:`~mailshield.storage.migrate`: schema status, upgrade and downgrade, run from code.
- :class:`CheckReports`: stored domain reports with their raw observations.
"""

from mailshield.storage.checks import CheckReports
from mailshield.storage.database import Database
from mailshield.storage.migrate import SchemaStatus, downgrade, schema_status, upgrade

__all__ = ["CheckReports", "Database", "SchemaStatus", "downgrade", "schema_status", "upgrade"]
