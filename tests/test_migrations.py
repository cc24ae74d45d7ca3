"""The shipped migrations build exactly the schema the models describe."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from storage import schema


async def test_schema_is_at_the_newest_migration(engine):
    assert await schema.is_up_to_date(engine)


async def test_migrations_match_the_models(engine):
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_seat_changes_are_seeded_from_the_confirmed_orders_that_changed_seats(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'before-0010.db'}")
    config = schema.alembic_config(engine.url.render_as_string(hide_password=False))

    def upgrade_to(revision: str):
        def run(connection) -> None:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        return run

    rows = (
        "INSERT INTO partner (id, team_id, name, alert_channel, manager_channel, timezone, "
        "created_at) VALUES (1, 'T01', 'Northwind', 'C1', 'C2', 'Europe/Berlin', "
        "'2026-01-01 00:00:00')",
        "INSERT INTO customer (id, partner_id, name, name_key, domain, region, contact_name, "
        "contact_email, created_at, updated_at) VALUES (1, 1, 'Goldcrest', 'goldcrest', "
        "'goldcrest.com', 'Europe', '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "INSERT INTO subscription (id, partner_id, customer_id, plan_code, seats, unit_price, "
        "billing_cycle, start_date, renewal_date, status, billing_owner, created_at, updated_at) "
        "VALUES (1, 1, 1, 'EXO', 10, 500, 'annual', '2026-05-01', '2027-05-01', 'active', "
        "'partner', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        # 7 → 10 seats, confirmed at 23:30 UTC on 23 November: 24 November in Berlin.
        "INSERT INTO customer_order (id, partner_id, customer_id, plan_code, seats, unit_price, "
        "billing_owner, subscription_id, previous_seats, note, state, token_hash, filed_by, "
        "filed_at, expires_at, decided_at, decided_by, confirmer_name, confirmer_email, "
        "confirmer_ip, confirmer_user_agent, decline_reason) VALUES (1, 1, 1, 'EXO', 10, 500, "
        "'partner', 1, 7, '', 'confirmed', 'a', 'U1', '2026-11-23 10:00:00', "
        "'2026-12-07 10:00:00', '2026-11-23 23:30:00', '', '', '', '', '', '')",
        # Declined, and the order that created the subscription: neither changed seats.
        "INSERT INTO customer_order (id, partner_id, customer_id, plan_code, seats, unit_price, "
        "billing_owner, subscription_id, previous_seats, note, state, token_hash, filed_by, "
        "filed_at, expires_at, decided_at, decided_by, confirmer_name, confirmer_email, "
        "confirmer_ip, confirmer_user_agent, decline_reason) VALUES (2, 1, 1, 'EXO', 3, 500, "
        "'partner', 1, 10, '', 'declined', 'b', 'U1', '2026-11-25 10:00:00', "
        "'2026-12-09 10:00:00', '2026-11-25 11:00:00', '', '', '', '', '', ''), "
        "(3, 1, 1, 'EXO', 7, 500, 'partner', 1, NULL, '', 'confirmed', 'c', 'U1', "
        "'2026-04-30 10:00:00', '2026-05-14 10:00:00', '2026-05-01 10:00:00', '', '', '', '', "
        "'', '')",
    )
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_to("0009"))
        for statement in rows:
            await connection.execute(text(statement))
        await connection.run_sync(upgrade_to("0010"))
        seeded = (
            await connection.execute(
                text(
                    "SELECT subscription_id, effective_on, seats_before, seats_after, "
                    "unit_price_before, unit_price_after, order_id FROM seat_change"
                )
            )
        ).all()
        setting = (
            await connection.execute(text("SELECT money_for_managers_only FROM partner"))
        ).all()
    await engine.dispose()
    assert [tuple(row) for row in seeded] == [(1, "2026-11-24", 7, 10, 500, 500, 1)]
    assert [tuple(row) for row in setting] == [("none",)]
