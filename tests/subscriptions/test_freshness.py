"""Where /subscription's figures come from, in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.subscriptions.freshness import freshness_words
from bot.zones import ago_words

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_ago_words_in_whole_units():
    assert ago_words(NOW - timedelta(seconds=59), NOW) == "just now"
    assert ago_words(NOW - timedelta(minutes=12, seconds=59), NOW) == "12 min ago"
    assert ago_words(NOW - timedelta(hours=1), NOW) == "1 hour ago"
    assert ago_words(NOW - timedelta(hours=23, minutes=59), NOW) == "23 hours ago"
    assert ago_words(NOW - timedelta(days=3, hours=5), NOW) == "3 days ago"
    assert ago_words(NOW + timedelta(minutes=5), NOW) == "just now"  # another process's clock


def test_figures_from_partner_center_imported_or_both():
    synced, imported = NOW - timedelta(minutes=12), NOW - timedelta(days=3)

    def words(sources, problem=""):
        return freshness_words(
            sources, synced_at=synced, imported_at=imported, sync_problem=problem, now=NOW
        )

    assert words({"partner_center"}) == "Figures from Partner Center, 12 min ago."
    assert words({"import"}) == "Figures imported 3 days ago."
    assert words({"import", "partner_center"}) == (
        "Figures from Partner Center, 12 min ago; others imported 3 days ago."
    )
    assert "the last sync failed" in words({"partner_center"}, problem="HTTP 401")
    assert freshness_words(set(), synced_at=None, imported_at=None, sync_problem="", now=NOW) == ""


def test_rows_from_before_any_dated_import_say_so():
    assert (
        freshness_words({"import"}, synced_at=None, imported_at=None, sync_problem="", now=NOW)
        == "Figures imported or ordered here (no import date on record)."
    )
