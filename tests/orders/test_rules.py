"""Order rules without Slack or a database: link and CSRF tokens, expiry and answers, the /order
arguments, and what an order says."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.catalogue import BUILT_IN
from bot.orders.rules import (
    Answer,
    BadArguments,
    OpenModal,
    OrderRequest,
    OrderState,
    OrderSubcommand,
    answer_order,
    csrf_token,
    csrf_valid,
    effective_state,
    expiry,
    new_token,
    parse_order_command,
    parse_seats,
    reminder_due,
    staff_can_change,
    token_matches,
    well_formed,
)
from bot.zones import when_in
from tests.utils.factories import EVERY_PLAN_CODE
from tests.utils.orders import EXPIRES, NOW, an_order, description

SECRET = "server-secret-for-tests"
URL_SAFE_43 = re.compile(r"[A-Za-z0-9_-]{43}")

# Link tokens


def test_a_new_token_is_43_url_safe_characters_of_32_random_bytes():
    token, _ = new_token()
    assert URL_SAFE_43.fullmatch(token)
    # 43 base64 characters carry 32 bytes = 256 bits, well over 128.
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_new_tokens_are_all_different():
    tokens = [new_token()[0] for _ in range(500)]
    assert len(set(tokens)) == 500


def test_only_the_sha256_of_the_token_is_kept():
    token, stored = new_token()
    assert stored == hashlib.sha256(token.encode("ascii")).hexdigest()
    assert stored != token and token not in stored
    assert re.fullmatch(r"[0-9a-f]{64}", stored)


def test_a_token_matches_its_own_hash_only():
    token, stored = new_token()
    other, other_stored = new_token()
    assert token_matches(token, stored)
    assert not token_matches(other, stored)
    assert not token_matches(token, other_stored)
    # The hash itself, presented as if it were the token, opens nothing.
    assert not token_matches(stored, stored)
    changed_last = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not token_matches(changed_last, stored)


def test_issued_tokens_are_well_formed():
    for _ in range(50):
        assert well_formed(new_token()[0])


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "short",
        "a" * 42,
        "a" * 44,
        "a" * 42 + "=",  # padding is not part of a token
        "a" * 42 + "/",  # standard, not URL-safe, base64
        "a" * 42 + "+",
        "../" * 14 + "a",
        "é" * 43,
        " " + "a" * 42,
        "a" * 43 + "\n",  # 44 characters: a trailing line break is not part of a token
    ],
)
def test_strings_that_no_token_looks_like_are_not_well_formed(junk):
    assert not well_formed(junk)


# CSRF tokens


def test_a_forms_csrf_token_is_valid_for_its_order_and_link():
    stored = new_token()[1]
    token = csrf_token(SECRET, order_id=7, stored_hash=stored)
    assert csrf_valid(SECRET, token, order_id=7, stored_hash=stored)


def test_a_csrf_token_is_invalid_for_another_order():
    stored = new_token()[1]
    token = csrf_token(SECRET, order_id=7, stored_hash=stored)
    assert not csrf_valid(SECRET, token, order_id=8, stored_hash=stored)
    assert not csrf_valid(SECRET, token, order_id=70, stored_hash=stored)


def test_a_csrf_token_from_before_a_resend_is_invalid():
    before, after = new_token()[1], new_token()[1]
    token = csrf_token(SECRET, order_id=7, stored_hash=before)
    assert not csrf_valid(SECRET, token, order_id=7, stored_hash=after)


def test_a_csrf_token_signed_with_another_secret_is_invalid():
    stored = new_token()[1]
    token = csrf_token("another-secret", order_id=7, stored_hash=stored)
    assert not csrf_valid(SECRET, token, order_id=7, stored_hash=stored)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: "",
        lambda token: token[:-1] + ("1" if token[-1] == "0" else "0"),
        lambda token: ("1" if token[0] == "0" else "0") + token[1:],
        lambda token: token[:-1],
        lambda token: token + "0",
        lambda token: token.upper() if token != token.upper() else token.lower() + "x",
        lambda token: "ünïcode" + token,
        lambda token: "0" * 64,
    ],
)
def test_a_tampered_csrf_token_is_invalid(tamper):
    stored = new_token()[1]
    token = csrf_token(SECRET, order_id=7, stored_hash=stored)
    assert not csrf_valid(SECRET, tamper(token), order_id=7, stored_hash=stored)


# Expiry and state


def test_a_link_expires_the_given_number_of_days_after_filing():
    assert expiry(NOW, 14) == datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert expiry(NOW, 1) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_pending_order_reads_pending_until_its_expiry():
    assert effective_state("pending", EXPIRES, NOW) is OrderState.PENDING
    assert effective_state("pending", EXPIRES, EXPIRES - timedelta(seconds=1)) is (
        OrderState.PENDING
    )


def test_a_pending_order_reads_expired_from_the_moment_of_expiry():
    assert effective_state("pending", EXPIRES, EXPIRES) is OrderState.EXPIRED
    assert effective_state("pending", EXPIRES, EXPIRES + timedelta(days=30)) is OrderState.EXPIRED


@pytest.mark.parametrize("state", ["confirmed", "declined", "expired", "cancelled"])
def test_a_decided_order_reads_as_it_was_decided_before_and_after_expiry(state):
    assert effective_state(state, EXPIRES, NOW) == state
    assert effective_state(state, EXPIRES, EXPIRES + timedelta(days=1)) == state


# (state, answer, when, changes, resulting state)
ANSWERS = [
    ("pending", Answer.CONFIRM, NOW, True, OrderState.CONFIRMED),
    ("pending", Answer.DECLINE, NOW, True, OrderState.DECLINED),
    ("pending", Answer.CONFIRM, EXPIRES - timedelta(seconds=1), True, OrderState.CONFIRMED),
    ("pending", Answer.CONFIRM, EXPIRES, False, OrderState.EXPIRED),
    ("pending", Answer.DECLINE, EXPIRES, False, OrderState.EXPIRED),
    ("pending", Answer.CONFIRM, EXPIRES + timedelta(days=1), False, OrderState.EXPIRED),
    ("confirmed", Answer.CONFIRM, NOW, False, OrderState.CONFIRMED),
    ("confirmed", Answer.DECLINE, NOW, False, OrderState.CONFIRMED),
    ("confirmed", Answer.DECLINE, EXPIRES, False, OrderState.CONFIRMED),
    ("declined", Answer.CONFIRM, NOW, False, OrderState.DECLINED),
    ("declined", Answer.DECLINE, NOW, False, OrderState.DECLINED),
    ("expired", Answer.CONFIRM, NOW, False, OrderState.EXPIRED),
    ("expired", Answer.DECLINE, NOW, False, OrderState.EXPIRED),
    ("cancelled", Answer.CONFIRM, NOW, False, OrderState.CANCELLED),
    ("cancelled", Answer.DECLINE, NOW, False, OrderState.CANCELLED),
]


@pytest.mark.parametrize(("state", "answer", "when", "changes", "result"), ANSWERS)
def test_only_a_pending_unexpired_order_changes_when_the_customer_answers(
    state, answer, when, changes, result
):
    transition = answer_order(state, EXPIRES, when, answer)
    assert transition.changes is changes
    assert transition.state is result


def test_the_filer_is_reminded_from_three_days_after_filing():
    assert not reminder_due("pending", NOW, None, NOW + timedelta(days=2), EXPIRES)
    just_before = NOW + timedelta(days=3) - timedelta(seconds=1)
    assert not reminder_due("pending", NOW, None, just_before, EXPIRES)
    assert reminder_due("pending", NOW, None, NOW + timedelta(days=3), EXPIRES)
    assert reminder_due("pending", NOW, None, NOW + timedelta(days=10), EXPIRES)


def test_the_filer_is_not_reminded_twice():
    reminded = NOW + timedelta(days=3)
    assert not reminder_due("pending", NOW, reminded, NOW + timedelta(days=5), EXPIRES)


def test_no_reminder_for_an_expired_or_decided_order():
    short_lived = NOW + timedelta(days=2)
    assert not reminder_due("pending", NOW, None, NOW + timedelta(days=3), short_lived)
    assert not reminder_due("pending", NOW, None, EXPIRES, EXPIRES)
    for state in ("confirmed", "declined", "expired", "cancelled"):
        assert not reminder_due(state, NOW, None, NOW + timedelta(days=4), EXPIRES)


def test_staff_may_change_a_pending_order_until_it_expires():
    assert staff_can_change("pending", EXPIRES, NOW)
    assert staff_can_change("pending", EXPIRES, EXPIRES - timedelta(seconds=1))
    assert not staff_can_change("pending", EXPIRES, EXPIRES)


@pytest.mark.parametrize("state", ["confirmed", "declined", "expired", "cancelled"])
def test_staff_may_not_change_a_decided_order(state):
    assert not staff_can_change(state, EXPIRES, NOW)


# Seats


@pytest.mark.parametrize(
    ("text", "seats"),
    [("25", 25), ("1,000", 1000), (" 7 ", 7), ("10000", 10_000), ("1", 1)],
)
def test_sane_seat_counts_are_read(text, seats):
    assert parse_seats(text) == seats


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "Seats must be at least 1"),
        ("-3", "Seats must be at least 1"),
        ("1.5", "Seats must be a whole number"),
        ("abc", "Seats must be a whole number"),
        ("", "Seats must be a whole number"),
        ("10001", "at most 10,000 seats"),
    ],
)
def test_other_seat_counts_are_refused_with_the_reason(text, problem):
    answer = parse_seats(text)
    assert isinstance(answer, str)
    assert problem in answer


def test_a_refused_seat_count_is_quoted_escaped():
    answer = parse_seats("<!channel>")
    assert isinstance(answer, str)
    assert "&lt;!channel&gt;" in answer and "<!channel>" not in answer


# The /order arguments


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("contoso.com BPOS-S 25", OrderRequest("contoso.com", "BPOS-S", 25)),
        ("fabrikam dental exo 10", OrderRequest("fabrikam dental", "EXO", 10)),
        ("Fabrikam Dental Group Ltd SpO 3", OrderRequest("Fabrikam Dental Group Ltd", "SPO", 3)),
        ("  contoso.com   bpos-s   1,000 ", OrderRequest("contoso.com", "BPOS-S", 1000)),
        ("acme Olm 7", OrderRequest("acme", "OLM", 7)),
        # A customer whose name starts like a subcommand is still a customer.
        ("list maker EXO 3", OrderRequest("list maker", "EXO", 3)),
        ("cancel culture oco 2", OrderRequest("cancel culture", "OCO", 2)),
        ("list", OrderSubcommand("list")),
        ("LIST", OrderSubcommand("list")),
        ("help", OrderSubcommand("help")),
        ("cancel 42", OrderSubcommand("cancel", 42)),
        ("cancel #42", OrderSubcommand("cancel", 42)),
        ("Cancel 42", OrderSubcommand("cancel", 42)),
        ("resend 7", OrderSubcommand("resend", 7)),
        ("resend #7", OrderSubcommand("resend", 7)),
        ("", OpenModal()),
        ("   ", OpenModal()),
    ],
)
def test_order_arguments_are_read(text, parsed):
    assert parse_order_command(text, BUILT_IN) == parsed


@pytest.mark.parametrize("name", ["cancel", "resend"])
def test_cancel_or_resend_alone_asks_which_order(name):
    parsed = parse_order_command(name, BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "Which order?" in parsed.problem
    assert f"/order {name} 42" in parsed.problem


@pytest.mark.parametrize("text", ["cancel abc", "resend abc", "cancel #", "cancel 4x2"])
def test_cancel_or_resend_of_something_not_a_number_says_it_is_no_order_id(text):
    parsed = parse_order_command(text, BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "is not an order id" in parsed.problem


@pytest.mark.parametrize("text", ["cancel ²", "resend ¹²"])
def test_cancel_of_digit_like_characters_says_it_is_no_order_id(text):
    # "²".isdigit() is True, but int("²") raises: the answer must be a problem, not a crash.
    parsed = parse_order_command(text, BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "is not an order id" in parsed.problem


def test_an_order_id_that_is_not_a_number_is_quoted_escaped():
    parsed = parse_order_command("cancel <!channel>", BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "&lt;!channel&gt;" in parsed.problem and "<!channel>" not in parsed.problem


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("contoso.com", "Missing the plan code and the seats:"),
        ("summit dental", "Missing the plan code and the seats:"),
        ("contoso 5", "Missing the plan code:"),
        ("5", "Missing the customer and the plan code."),
    ],
)
def test_missing_plan_or_seats_are_named_with_every_plan_code(text, missing):
    parsed = parse_order_command(text, BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert parsed.problem.startswith(missing)
    for code in EVERY_PLAN_CODE:
        assert f"`{code}`" in parsed.problem


def test_an_unknown_plan_code_lists_every_valid_code():
    parsed = parse_order_command("contoso.com XYZ 25", BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "`XYZ` is not a plan code" in parsed.problem
    for code in EVERY_PLAN_CODE:
        assert f"`{code}`" in parsed.problem


def test_a_bad_seat_count_is_refused_before_the_plan_is_looked_up():
    parsed = parse_order_command("contoso.com EXO 0", BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "at least 1" in parsed.problem


@pytest.mark.parametrize("text", ["contoso.com <!channel> 25", "contoso.com EXO <!channel>"])
def test_what_the_user_typed_comes_back_escaped(text):
    parsed = parse_order_command(text, BUILT_IN)
    assert isinstance(parsed, BadArguments)
    assert "&lt;!channel&gt;" in parsed.problem
    assert "<!channel>" not in parsed.problem


# What an order says


def test_an_order_for_a_new_subscription_is_described_with_its_figures():
    described = description()
    assert described.number == 42
    assert described.customer_name == "Contoso Dental"
    assert described.partner_name == "Northwind Cloud"
    assert described.plan_name == "Business Productivity Online Standard Suite"
    assert described.change_words == "a new BPOS-S subscription of 25 seats"
    # 25 seats × $15.00 = $375.00 a month; × 12 = $4,500.00 a year.
    assert described.unit_price == "$15.00"
    assert described.monthly == "$375.00"
    assert described.annual == "$4,500.00"
    assert described.billing_owner == "Microsoft"
    # 6 Dec 2026 12:00 UTC is 13:00 in Berlin (CET, UTC+1).
    assert described.expires == "Sun 6 Dec 2026, 13:00 Europe/Berlin"


def test_an_order_that_adds_seats_says_how_many():
    order = an_order(
        plan_code="EXO", seats=25, previous_seats=10, unit_price=Decimal("4.20"),
        billing_owner="partner",
    )  # fmt: skip
    described = description(order)
    assert described.change_words == (
        "changes the existing EXO subscription from 10 to 25 seats (adds 15)"
    )
    # 25 × $4.20 = $105.00 a month; × 12 = $1,260.00 a year.
    assert (described.monthly, described.annual) == ("$105.00", "$1,260.00")
    assert described.billing_owner == "Northwind Cloud"


def test_an_order_that_removes_seats_says_how_many():
    described = description(an_order(plan_code="SPO", seats=250, previous_seats=1200))
    assert described.change_words == (
        "changes the existing SPO subscription from 1,200 to 250 seats (removes 950)"
    )


def test_a_plan_no_longer_in_the_catalogue_is_named_by_its_code():
    described = description(an_order(plan_code="GONE"))
    assert described.plan_name == "GONE"
    assert described.services == ()


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        # Summer time (CEST, UTC+2) until 25 Oct 2026 01:00 UTC, then winter time (CET, UTC+1).
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), "Sat 24 Oct 2026, 14:00 Europe/Berlin"),
        (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "Sun 25 Oct 2026, 02:59 Europe/Berlin"),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "Sun 25 Oct 2026, 02:00 Europe/Berlin"),
        (datetime(2026, 10, 26, 12, 0, tzinfo=UTC), "Mon 26 Oct 2026, 13:00 Europe/Berlin"),
        # Clocks go forward on 29 Mar 2026 at 01:00 UTC: 01:59 CET is followed by 03:00 CEST.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Sun 29 Mar 2026, 01:30 Europe/Berlin"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Sun 29 Mar 2026, 03:30 Europe/Berlin"),
    ],
)
def test_a_moment_is_shown_in_the_readers_local_time_across_summer_time_changes(moment, shown):
    assert when_in(moment, "Europe/Berlin") == shown


def test_a_moment_late_in_the_utc_day_is_shown_on_the_readers_next_day():
    # 23:30 UTC on Sunday 22 Nov is 00:30 on Monday 23 Nov in Berlin (UTC+1).
    moment = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert when_in(moment, "Europe/Berlin") == "Mon 23 Nov 2026, 00:30 Europe/Berlin"
    assert when_in(moment, "UTC") == "Sun 22 Nov 2026, 23:30 UTC"


# Issue 14, item 10: each wrong /order says precisely what is wrong.


def test_order_list_with_an_argument_says_list_takes_none():
    assert parse_order_command("list extra", BUILT_IN) == BadArguments(
        "`/order list` takes nothing after it; type just `/order list`. To file an order, "
        "type `/order &lt;customer&gt; &lt;plan code&gt; &lt;seats&gt;`, e.g. "
        "`/order sons plumbing OLM 10`, or just `/order` for a form."
    )


def test_a_customer_without_plan_and_seats_is_told_what_is_missing_with_an_example():
    assert parse_order_command("summit dental", BUILT_IN) == BadArguments(
        "Missing the plan code and the seats: `/order summit dental` names only the customer. "
        "Add the plan code and the seats it should have in total, e.g. "
        "`/order summit dental BPOS-S 10`. Plan codes: `BPOS-S`, `EXO`, `SPO`, `OCO`, `OLM`, "
        "`EXO-P1`, `M365-BB`, `M365-BS`, `M365-BP`, `O365-E3`, `M365-E3`, `M365-E5`."
    )


def test_a_plan_without_seats_asks_how_many_seats():
    assert parse_order_command("summit dental EXO", BUILT_IN) == BadArguments(
        "Missing the seats: how many seats of EXO should summit dental have in total? "
        "E.g. `/order summit dental EXO 10`."
    )


def test_cancel_with_two_ids_takes_one():
    assert parse_order_command("cancel 3 4", BUILT_IN) == BadArguments(
        "`/order cancel` takes one order id, e.g. `/order cancel 42`; `/order list` shows the ids."
    )


def test_a_customer_named_like_a_subcommand_can_still_be_ordered_for():
    assert parse_order_command("list dental EXO 5", BUILT_IN) == OrderRequest(
        "list dental", "EXO", 5
    )
    assert parse_order_command("cancel corp spo 1,000", BUILT_IN) == OrderRequest(
        "cancel corp", "SPO", 1000
    )
