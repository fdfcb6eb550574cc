"""Persistence on SQLite or PostgreSQL through the same code and migrations.

- :class:`Database` (:mod:`~mailshield.storage.database`): the engine and its connections,
  ``connect`` for reads and ``transaction`` for writes.
- :class:`CheckReports` (:mod:`~mailshield.storage.checks`): stored domain reports with their raw
  observations.
- :mod:`~mailshield.storage.migrate`: schema status, upgrade and downgrade, run from code. It is
  not imported here, so that using storage does not load Alembic.
"""

from mailshield.storage.checks import CheckReports
from mailshield.storage.database import Database

__all__ = ["CheckReports", "Database"]
