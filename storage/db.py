"""The async engine and session factory: SQLite pragmas, PostgreSQL pool settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 10_000
# What a database that is down, restarting or unreachable raises through SQLAlchemy and asyncpg.
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)

Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    """Tells whether a database URL names SQLite."""
    return url.startswith("sqlite")


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    if not is_sqlite(url):
        return None
    name = make_url(url).database
    return Path(name) if name and name != ":memory:" and not name.startswith("file:") else None


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Creates the async engine with the settings each database needs."""
    if is_sqlite(url):
        # No pre-ping: an open SQLite file cannot drop the connection as a server can, and a
        # `SELECT 1` before every checkout cost a statement (and a thread hand-over) a request.
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=5,
        # asyncpg gives up on a server that does not answer instead of hanging the request.
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside one writer; the busy timeout makes writers wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> Sessions:
    """Returns the session factory; objects stay readable after commit (no lazy loads in async)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def autocommit_session(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session whose every statement commits by itself, for a lone write: on SQLite a
    transaction would hold the database's one write lock from its statement until the commit,
    and between the two the event loop runs every other request's work first."""
    async with sessions.kw["bind"].connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with sessions(bind=autocommit) as session:
            yield session


async def database_answers(engine: AsyncEngine, *, timeout: float = 2.0) -> bool:
    """Tells whether the database answers a trivial query within the timeout."""

    async def ping() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout)
    except Exception:  # noqa: BLE001 - any failure means "down" for a health check
        return False
    return True
