"""The database handle: one async engine for SQLite or PostgreSQL, and its connections.

``Database(url)`` accepts any SQLAlchemy async URL (``sqlite+aiosqlite:///path`` or
``postgresql+asyncpg://user:pw@host/db``). Nothing connects until first use. Reads go through
:meth:`Database.connect`, writes through :meth:`Database.transaction`.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TypeVar

from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from mailshield.storage import sqlite

T = TypeVar("T")


class Database:
    """An async engine plus the connection setup our schema relies on.

    SQLite gets WAL, enforced foreign keys, a busy timeout and real transactions (see
    :mod:`mailshield.storage.sqlite`); its folder is created. PostgreSQL connections are checked
    before reuse, so a restarted server costs no failed request.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self._url = parsed
        if parsed.get_backend_name() == "sqlite":
            sqlite.prepare_folder(parsed)
            self._engine = create_async_engine(parsed, echo=echo)
            sqlite.install(self._engine.sync_engine)
        else:
            self._engine = create_async_engine(parsed, echo=echo, pool_pre_ping=True)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def display_url(self) -> str:
        """The URL with its password hidden, for messages and logs."""
        return self._url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading; anything not committed explicitly is rolled back."""
        async with self._engine.connect() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(
        self, *, enforce_foreign_keys: bool = True
    ) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        On SQLite it takes the write lock at BEGIN (waiting up to the busy timeout).
        ``enforce_foreign_keys=False`` is for schema migrations only.
        """
        async with self._engine.connect() as connection:
            await connection.execution_options(
                **{
                    sqlite.BEGIN_OPTION: "IMMEDIATE",
                    sqlite.FOREIGN_KEYS_OPTION: enforce_foreign_keys,
                }
            )
            async with connection.begin():
                yield connection

    async def driver_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """SQLite only: ``work(connection)`` on the ``sqlite3`` connection as one write
        transaction (as :meth:`transaction`: write lock at BEGIN, foreign keys enforced,
        committed when it returns, rolled back if it raises), run in a single call on the
        driver's thread. For batches of many statements: one thread hop instead of one each.
        """
        if self.dialect != "sqlite":
            raise ValueError(f"driver_transaction is for SQLite, not {self.dialect}")
        async with self._engine.connect() as connection:
            return await sqlite.run_on_driver(
                connection, functools.partial(sqlite.immediate_transaction, work=work)
            )

    async def ping(self, *, seconds: float = 2.0) -> bool:
        """Whether the database answers a trivial query within ``seconds``."""
        try:
            async with asyncio.timeout(seconds), self.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection; the handle may still be used afterwards."""
        await self._engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.dispose()
