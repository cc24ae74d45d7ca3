"""The readings of a seat cut, without Slack or a database."""

from __future__ import annotations

from bot.catalogue import BUILT_IN
from bot.orders.cuts import Choice, CutToConfirm, note_of, parse_choice, question_text, readings
from tests.utils.orders import a_customer

EXO = BUILT_IN.get("EXO")


def test_both_readings_of_a_cut_with_the_seats_each_files():
    cut = CutToConfirm(a_customer(), EXO, current=23, seats=5)
    assert [(r.label, r.seats, r.value) for r in readings(cut)] == [
        ("Set to 5 seats (removes 18)", 5, "1:EXO:5:23"),
        ("Add 5 (to 28 seats)", 28, "1:EXO:28:23"),
    ]


def test_adding_past_the_largest_order_is_not_offered():
    # 9,998 + 5 = 10,003 seats, more than an order may have (10,000).
    cut = CutToConfirm(a_customer(), EXO, current=9_998, seats=5)
    assert [r.label for r in readings(cut)] == ["Set to 5 seats (removes 9,993)"]
    assert "Adding 5 would be more than 10,000 seats. Is the cut meant?" in question_text(cut)


def test_a_choice_is_read_back_and_anything_else_is_refused():
    assert parse_choice("1:EXO:28:23") == Choice(1, "EXO", 28, 23)
    assert parse_choice("1:EXO:28") is None
    assert parse_choice("1:EXO:-5:23") is None


def test_the_note_rides_along_and_junk_carries_none():
    assert note_of('{"note": "Per your call"}') == "Per your call"
    assert note_of("not json") == "" and note_of('["note"]') == ""
