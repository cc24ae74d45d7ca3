"""The /summary and App Home listeners called directly, with fake ack, respond and client, on the
real test database: what the person sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.summaries import home_opened, summary_command
from tests.utils.factories import make_partner
from tests.utils.listeners import FakeAck, FakeClient, FakeRespond, listener_context

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday in the week of 16 November


@pytest.fixture
def services(services):
    """The services with the clock stopped at NOW."""
    services.clock = lambda: NOW
    return services


async def command(services, partner, text: str, user_id: str) -> tuple[FakeAck, FakeRespond]:
    ack, respond = FakeAck(), FakeRespond()
    await summary_command(
        ack=ack,
        command={"text": text, "user_id": user_id},
        respond=respond,
        context=listener_context(services, partner),
    )
    return ack, respond


async def test_a_manager_is_acked_and_gets_last_weeks_summary_privately(services, sessions):
    partner = await make_partner(sessions, name="Alpha IT", managers="U0BOSS")

    ack, respond = await command(services, partner, "last-week", "U0BOSS")

    assert len(ack.calls) == 1
    (answer,) = respond.calls
    assert answer["text"] == "Weekly summary, week of 9 Nov – 15 Nov 2026"
    assert "Week of 9 Nov – 15 Nov 2026 — Alpha IT" in str(answer["blocks"])
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False


async def test_someone_else_is_acked_and_told_who_the_managers_are(services, sessions):
    partner = await make_partner(sessions, managers="U0BOSS")

    ack, respond = await command(services, partner, "", "U0STAFF")

    assert len(ack.calls) == 1
    (text,) = respond.texts
    assert "weekly summaries are for your company's partnerbot managers" in text
    assert "<@U0BOSS>" in text


async def test_a_schedule_is_answered_with_its_next_run(services, sessions):
    partner = await make_partner(sessions, timezone="Europe/Berlin", managers="U0BOSS")

    _, respond = await command(services, partner, "schedule fri 17:30", "U0BOSS")
    _, wrong = await command(services, partner, "schedule funday 09:00", "U0BOSS")
    _, unknown = await command(services, partner, "tomorrow", "U0BOSS")

    assert (
        "Fridays at 17:30 (Europe/Berlin) — next: Fri 20 Nov, 17:30 Europe/Berlin"
        in (respond.texts[0])
    )
    assert "`funday` is not a weekday" in wrong.texts[0]
    assert "Nothing was changed." in wrong.texts[0]
    assert unknown.texts[0].startswith("That is not a /summary command.")


async def test_opening_the_home_tab_publishes_the_view_for_that_person(services, sessions):
    partner = await make_partner(sessions, managers="U0BOSS")
    client = FakeClient()

    for user in ("U0BOSS", "U0STAFF"):
        await home_opened(
            event={"type": "app_home_opened", "user": user, "tab": "home"},
            context=listener_context(services, partner),
            client=client,
        )

    boss, staff = client.calls_to("views_publish")
    assert boss["user_id"] == "U0BOSS" and staff["user_id"] == "U0STAFF"
    assert "Week of 16 Nov – 22 Nov 2026" in str(boss["view"]["blocks"])
    assert "Week of" not in str(staff["view"]["blocks"])
    assert "/subscription" in str(staff["view"]["blocks"])
