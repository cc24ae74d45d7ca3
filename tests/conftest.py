"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with DATABASE_URL), emptied
after every test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel

from bot.app import build_services
from bot.services import Services
from bot.settings import async_database_url, load_settings
from devtools.local_partner_center import LocalPartnerCenter
from storage import schema
from storage.db import Sessions, create_engine, is_sqlite, session_factory
from tests.utils.graph import GraphSite, start_graph_site
from tests.utils.partner_center import start_partner_center


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database the suite runs on: DATABASE_URL when set, else a fresh SQLite file."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return async_database_url(configured)
    path: Path = tmp_path_factory.mktemp("db") / "partnerbot-test.db"
    return f"sqlite+aiosqlite:///{path}"


async def create_postgres_database_if_missing(url: str) -> None:
    """Creates the test database on the server when it does not exist yet."""
    import asyncpg

    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres")
    try:
        connection = await asyncpg.connect(target.set(drivername="postgresql").render_as_string(
            hide_password=False))  # fmt: skip
    except asyncpg.InvalidCatalogNameError:
        connection = await asyncpg.connect(server.render_as_string(hide_password=False))
        await connection.execute(f'CREATE DATABASE "{target.database}"')
    await connection.close()


async def reset_postgres_schema(url: str) -> None:
    """Drops everything in the test database so every run starts from an empty schema."""
    await create_postgres_database_if_missing(url)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The migrated engine shared by the whole run."""
    if not is_sqlite(database_url):
        await reset_postgres_schema(database_url)
    engine = create_engine(database_url)
    await schema.upgrade(engine)
    yield engine
    await engine.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    """Deletes every row, children first, keeping the schema and Alembic's version."""
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(table.delete())


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[Sessions]:
    """A session factory on the test database; every table is emptied after the test."""
    yield session_factory(engine)
    await empty_tables(engine)


@pytest.fixture
def services(engine: AsyncEngine, database_url: str) -> Iterator[Services]:
    """The bot's services on the test database, as `serve` builds them (no Slack, no feed)."""
    settings = load_settings(database_url=database_url, secret_key="x" * 20, incident_feed_url=None)
    built = build_services(settings, engine=engine)
    yield built
    built.close_tokens()


@pytest.fixture
async def graph_site(tmp_path: Path) -> AsyncIterator[GraphSite]:
    """A local Microsoft Graph and Entra over TLS (tests/utils/graph.py), its app registered."""
    site = await start_graph_site(tmp_path)
    yield site
    await site.graph.stop()


@pytest.fixture
async def local_pc(tmp_path: Path) -> AsyncIterator[LocalPartnerCenter]:
    """A local Partner Center and Entra over TLS (tests/utils/partner_center.py), no account."""
    server = await start_partner_center(tmp_path)
    yield server
    await server.stop()
