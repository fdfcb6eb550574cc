"""Schema migrations run from code: status, upgrade, downgrade and new revision files.

Alembic is driven programmatically with the environment in :mod:`mailshield.storage.migrations`;
users never need an ``alembic.ini``. Every command runs in one transaction on a connection from
:class:`~mailshield.storage.database.Database`, so a failed migration leaves the schema as it
was. On PostgreSQL an advisory lock makes replicas that start together migrate one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection

from mailshield.storage.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = 0x6D61696C736869  # "mailshi": one lock shared by every MailShield process


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where the database schema stands compared with the code's latest revision."""

    current: str | None
    """Revision applied to the database; ``None`` when it was never migrated."""
    head: str
    """Latest revision this version of MailShield ships."""
    known: bool
    """Whether ``current`` is a revision this version knows (false when the database is newer)."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def behind(self) -> bool:
        """Migrations are pending and ``mailshield db upgrade`` would apply them."""
        return self.known and not self.up_to_date

    def describe(self) -> str:
        """One line for people: the state and, when needed, what to do."""
        current = self.current or "none (empty database)"
        if self.up_to_date:
            return f"schema up to date at revision {self.head}"
        if not self.known:
            return (
                f"schema revision {current} is unknown to this MailShield version "
                f"(latest known: {self.head}); the database was migrated by a newer version"
            )
        return f"schema at revision {current}, latest is {self.head}: run `mailshield db upgrade`"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision(scripts: ScriptDirectory | None = None) -> str:
    """The single latest revision (history is kept linear)."""
    head = (scripts or script_directory()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def status_of(current: str | None, scripts: ScriptDirectory | None = None) -> SchemaStatus:
    """The status of a database whose applied revision is ``current``."""
    scripts = scripts or script_directory()
    return SchemaStatus(current, head_revision(scripts), known=_is_known(scripts, current))


async def schema_status(db: Database) -> SchemaStatus:
    """Read the applied revision and compare it with the head."""
    async with db.connect() as connection:
        current = await connection.run_sync(_current_revision)
    return status_of(current)


async def upgrade(db: Database, revision: str = "head") -> SchemaStatus:
    """Apply migrations up to ``revision`` and return the new status."""
    await _run(db, "upgrade", revision)
    return await schema_status(db)


async def downgrade(db: Database, revision: str) -> SchemaStatus:
    """Revert migrations down to ``revision`` (``"base"`` drops every table we made)."""
    await _run(db, "downgrade", revision)
    return await schema_status(db)


def new_revision(message: str) -> Path:
    """Write an empty revision file after the head, numbered one higher, and return its path."""
    head = head_revision()
    if not head.isdigit():
        raise RuntimeError(f"head revision {head!r} is not numbered")
    script = command.revision(alembic_config(), message=message, rev_id=f"{int(head) + 1:04d}")
    if script is None or isinstance(script, list):
        raise RuntimeError("alembic did not create exactly one revision")
    return Path(script.path)


async def _run(db: Database, direction: str, revision: str) -> None:
    # SQLite rebuilds tables to alter them; enforcement would fire ON DELETE actions meanwhile.
    async with db.transaction(enforce_foreign_keys=False) as connection:
        await connection.run_sync(_run_command, direction, revision)


def _run_command(connection: Connection, direction: str, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
    config = alembic_config()
    config.attributes["connection"] = connection
    if direction == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
    if connection.dialect.name == "sqlite":
        _check_foreign_keys(connection)


def _check_foreign_keys(connection: Connection) -> None:
    """Fail the migration (and so roll it back) if it left a dangling reference on SQLite."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _is_known(scripts: ScriptDirectory, revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        scripts.get_revision(revision)
    except CommandError:
        return False
    return True
