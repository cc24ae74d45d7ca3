"""/summary's routing and the App Home tab, called directly on the test database: managers only,
which week each word asks for, schedules saved (or left alone when they cannot be read)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.catalogue import load_catalogue
from bot.subscriptions.rules import CommissionRule
from bot.summaries.commands import home_view, summary_answer
from storage import summaries as schedules
from tests.utils.factories import make_partner

CATALOGUE = load_catalogue(None)
RULE = CommissionRule()
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday in the week of 16 November


async def ask(sessions, partner, text: str, user_id: str = "U0BOSS") -> str:
    async with sessions() as session:
        answers = await summary_answer(
            session, text, partner=partner, user_id=user_id, now=NOW, catalogue=CATALOGUE,
            rule=RULE,
        )  # fmt: skip
    assert len(answers) == 1
    return answers[0].text


async def stored_schedule(sessions, partner):
    async with sessions() as session:
        return await schedules.schedule_of(session=session, partner_id=partner.id)


async def test_someone_who_is_not_a_manager_is_told_who_is(sessions):
    partner = await make_partner(sessions, managers="U0BOSS")
    for text in ("", "last-week", "schedule off"):
        answer = await ask(sessions, partner, text, user_id="U0STAFF")
        assert "weekly summaries are for your company's partnerbot managers" in answer
        assert "<@U0BOSS>" in answer and "week of" not in answer.lower()
    assert await stored_schedule(sessions, partner) is None


async def test_each_word_asks_for_its_week(sessions):
    partner = await make_partner(sessions, managers="U0BOSS")
    this_week = "Weekly summary, week of 16 Nov – 22 Nov 2026"
    assert await ask(sessions, partner, "") == this_week
    assert await ask(sessions, partner, "  This-Week ") == this_week
    assert (
        await ask(sessions, partner, "last-week") == "Weekly summary, week of 9 Nov – 15 Nov 2026"
    )


async def test_anything_else_is_answered_with_the_usage(sessions):
    partner = await make_partner(sessions, managers="U0BOSS")
    for text in ("next-week", "last-week please"):
        answer = await ask(sessions, partner, text)
        assert answer.startswith("That is not a /summary command.")
        assert "`/summary schedule off`" in answer


async def test_a_schedule_is_saved_turned_off_and_keeps_its_time(sessions):
    partner = await make_partner(sessions, timezone="Europe/Berlin", managers="U0BOSS")

    answer = await ask(sessions, partner, "schedule Fri 17:30")
    assert answer == (
        f"The weekly summary goes to <#{partner.manager_channel}> on Fridays at 17:30 "
        "(Europe/Berlin) — next: Fri 20 Nov, 17:30 Europe/Berlin."
    )
    saved = await stored_schedule(sessions, partner)
    assert (saved.weekday, saved.at_minutes, saved.enabled) == (4, 1050, True)
    assert (saved.updated_by, saved.updated_at) == ("U0BOSS", NOW)

    assert "The weekly summary is off" in await ask(sessions, partner, "schedule off")
    off = await stored_schedule(sessions, partner)
    assert (off.weekday, off.at_minutes, off.enabled) == (4, 1050, False)


async def test_a_schedule_that_cannot_be_read_changes_nothing(sessions):
    partner = await make_partner(sessions, managers="U0BOSS")
    await ask(sessions, partner, "schedule monday 10:15")
    for text in ("schedule funday 09:00", "schedule monday 25:00", "schedule monday"):
        assert "Nothing was changed." in await ask(sessions, partner, text)
    kept = await stored_schedule(sessions, partner)
    assert (kept.weekday, kept.at_minutes, kept.enabled) == (0, 615, True)


async def test_the_home_tab_shows_managers_the_week_and_others_the_commands(sessions):
    partner = await make_partner(sessions, managers="U0BOSS")

    async def home(user_id: str) -> str:
        async with sessions() as session:
            view = await home_view(
                session, partner=partner, user_id=user_id, now=NOW, catalogue=CATALOGUE,
                rule=RULE,
            )  # fmt: skip
        assert view["type"] == "home"
        return str(view["blocks"])

    boss, staff = await home("U0BOSS"), await home("U0STAFF")
    assert "Week of 16 Nov – 22 Nov 2026" in boss and "/summary" in boss
    assert "Week of" not in staff and "/summary" not in staff and "/subscription" in staff
