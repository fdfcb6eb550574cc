"""Persistence on SQLite or PostgreSQL through the same code and migrations.

- :class:`Database` (:mod:`~mailshield.storage.database`): the engine and its connections,
  ``connect`` for reads and ``transaction`` for writes.
- :class:`CheckReports` (:mod:`~mailshield.storage.checks`): stored domain reports with their raw
  observations.
- :mod:`~mailshield.storage.migrate`: schema status, upgrade and downgrade, run from code. It is
  not imported here, so that using storage does not load Alembic.

Both names are loaded on first use (PEP 562), so that a module of this package that needs no
SQLAlchemy (e.g. :mod:`~mailshield.storage.report_prepared`, used in import worker processes)
can be imported without loading it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailshield.storage.checks import CheckReports
    from mailshield.storage.database import Database

__all__ = ["CheckReports", "Database"]

_HOMES = {"CheckReports": "mailshield.storage.checks", "Database": "mailshield.storage.database"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
