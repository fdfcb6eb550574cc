"""Alembic environment: runs the migrations on the connection the caller opened.

:mod:`mailshield.storage.migrate` puts an open, already-begun connection into
``config.attributes["connection"]``, so every revision of one command runs in one transaction
(transactional DDL on both SQLite and PostgreSQL).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from mailshield.storage.tables import metadata


def run_migrations(connection: Connection) -> None:
    """Configure Alembic for this connection's dialect and run the requested revisions."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; Alembic's batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _connection() -> Connection:
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError("run migrations with `mailshield db upgrade`, not the alembic command")
    return connection


run_migrations(_connection())
