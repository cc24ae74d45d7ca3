"""Installed workspaces (many-workspace mode): slack_sdk's installation store on the bot's own
database, and the queries the bot asks of their tables.

The tables are created by the migrations (storage/models.py declares them); the stores never
create them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from sqlalchemy import delete, desc, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import slack_bots, slack_installations, slack_oauth_states


def installation_store(engine: AsyncEngine, *, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    """Returns slack_sdk's installation store on the bot's database (tables from migrations)."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


@dataclass(frozen=True)
class InstalledWorkspace:
    team_id: str
    team_name: str
    installer_id: str  # the Slack user who installed it last
    installed_at: datetime  # UTC


async def newest_bot(*, session: AsyncSession, client_id: str, team_id: str) -> Bot | None:
    """Gets the newest bot installation with a token in a workspace (whatever its Enterprise Grid
    org), or None when the workspace has not installed the app or uninstalled it."""
    columns = slack_bots.c
    connection = await session.connection()
    result = await connection.execute(
        select(slack_bots)
        .where(
            columns.client_id == client_id,
            columns.team_id == team_id,
            columns.bot_token.is_not(None),
        )
        .order_by(desc(columns.installed_at), desc(columns.id))
        .limit(1)
    )
    row = result.mappings().first()
    return SQLAlchemyInstallationStore.build_bot_entity(row) if row is not None else None


async def get_workspace(
    *, session: AsyncSession, client_id: str, team_id: str
) -> InstalledWorkspace | None:
    """Gets an installed workspace by its team id, as its newest installation describes it."""
    found = await list_workspaces(session=session, client_id=client_id, team_id=team_id)
    return found[0] if found else None


async def list_workspaces(
    *, session: AsyncSession, client_id: str, team_id: str | None = None
) -> list[InstalledWorkspace]:
    """Lists the installed workspaces (or the one with `team_id`), newest install first."""
    columns = slack_installations.c
    query = (
        select(columns.team_id, columns.team_name, columns.user_id, columns.installed_at)
        .where(columns.client_id == client_id, columns.team_id.is_not(None))
        .order_by(desc(columns.installed_at), desc(columns.id))
    )
    bots = (
        select(slack_bots.c.team_id)
        .where(slack_bots.c.client_id == client_id, slack_bots.c.bot_token.is_not(None))
        .distinct()
    )
    if team_id is not None:
        query = query.where(columns.team_id == team_id)
        bots = bots.where(slack_bots.c.team_id == team_id)
    connection = await session.connection()
    result = await connection.execute(query)
    workspaces: dict[str, InstalledWorkspace] = {}
    for row in result:
        if row.team_id not in workspaces:
            workspaces[row.team_id] = InstalledWorkspace(
                team_id=row.team_id,
                team_name=row.team_name or "",
                installer_id=row.user_id,
                installed_at=row.installed_at.replace(tzinfo=UTC),
            )
    # Only workspaces that still have a bot (an uninstall deletes both; a revoked token, the bot).
    with_bot = {row.team_id for row in await connection.execute(bots)}
    return [workspace for team, workspace in workspaces.items() if team in with_bot]


async def delete_expired_states(*, session: AsyncSession, now: datetime) -> int:
    """Deletes the OAuth states whose install was never finished in time; returns how many."""
    connection = await session.connection()
    result = await connection.execute(
        delete(slack_oauth_states).where(
            slack_oauth_states.c.expire_at <= now.astimezone(UTC).replace(tzinfo=None)
        )
    )
    return result.rowcount or 0
