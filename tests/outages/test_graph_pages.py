"""Reading Graph's pages, the plain parts: the first page's filter, which next links are followed,
how long a Retry-After says to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.outages.graph_pages import FeedUnusable, checked_next_link, retry_after, with_filter

ISSUES = "https://graph.microsoft.com/v1.0/admin/serviceAnnouncement/issues"


def test_the_first_poll_asks_for_the_whole_list():
    assert with_filter(ISSUES, None) == ISSUES


def test_later_polls_filter_on_last_modified_with_an_unquoted_utc_literal():
    since = datetime(2026, 11, 20, 13, 4, 59, 900000, tzinfo=UTC)
    assert with_filter(ISSUES, since) == (
        ISSUES + "?$filter=lastModifiedDateTime%20ge%202026-11-20T13%3A04%3A59Z"
    )


def test_a_next_link_on_the_same_host_is_followed():
    link = ISSUES + "?$skip=100"
    assert checked_next_link(link, ISSUES, {ISSUES}) == link


@pytest.mark.parametrize(
    ("link", "why"),
    [
        ("https://graph.example.net/v1.0/admin/serviceAnnouncement/issues?$skip=100", "another"),
        ("http://graph.microsoft.com/v1.0/admin/serviceAnnouncement/issues?$skip=100", "another"),
        (ISSUES, "already read"),
        (42, "not a link"),
    ],
)
def test_a_next_link_elsewhere_or_back_is_not_followed(link, why):
    with pytest.raises(FeedUnusable, match=why):
        checked_next_link(link, ISSUES, {ISSUES})


def test_retry_after_in_seconds_or_as_a_date_or_missing():
    assert retry_after("7", 0) == 7.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=61), usegmt=True)
    assert 55 <= retry_after(in_a_minute, 0) <= 61
    assert [retry_after(None, tries) for tries in range(3)] == [5.0, 10.0, 20.0]
    assert retry_after("soon", 1) == 10.0
