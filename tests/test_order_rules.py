"""Order rules without Slack or a database: link tokens, CSRF tokens, expiry, state transitions,
reminders and the /order arguments."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.catalogue import BUILT_IN
from bot.orders.rules import (
    MAX_SEATS,
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
    token_hash,
    token_matches,
    well_formed,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_tokens_have_256_random_bits_and_only_their_hash_is_kept():
    tokens = {new_token()[0] for _ in range(200)}
    assert len(tokens) == 200
    token, stored = new_token()
    assert len(token) == 43 and well_formed(token)  # 32 bytes, url-safe base64
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert token_matches(token, stored)
    assert not token_matches(token[:-1] + ("A" if token[-1] != "A" else "B"), stored)


@pytest.mark.parametrize("junk", ["", "short", "x" * 44, "a/b" + "c" * 40, "é" * 43, "../" * 14])
def test_only_token_shaped_strings_are_looked_up(junk):
    assert not well_formed(junk)


def test_csrf_token_is_bound_to_the_order_and_its_current_link():
    secret, stored = "server-secret", token_hash("t" * 43)
    token = csrf_token(secret, order_id=7, stored_hash=stored)
    assert csrf_valid(secret, token, order_id=7, stored_hash=stored)
    assert not csrf_valid(secret, token, order_id=8, stored_hash=stored)  # another order
    assert not csrf_valid(secret, token, order_id=7, stored_hash=token_hash("u" * 43))  # resent
    assert not csrf_valid("other-secret", token, order_id=7, stored_hash=stored)
    assert not csrf_valid(secret, "", order_id=7, stored_hash=stored)
    tampered = token[:-1] + ("1" if token[-1] == "0" else "0")
    assert not csrf_valid(secret, tampered, order_id=7, stored_hash=stored)
    assert not csrf_valid(secret, "ünïcode", order_id=7, stored_hash=stored)


def test_a_link_expires_after_its_days_and_reads_expired_from_that_moment():
    expires = expiry(NOW, 14)
    assert expires == NOW + timedelta(days=14)
    assert effective_state("pending", expires, expires - timedelta(seconds=1)) is OrderState.PENDING
    assert effective_state("pending", expires, expires) is OrderState.EXPIRED
    assert effective_state("confirmed", expires, expires + timedelta(days=1)) is (
        OrderState.CONFIRMED
    )


@pytest.mark.parametrize("state", list(OrderState))
@pytest.mark.parametrize("answer", list(Answer))
def test_only_a_pending_unexpired_order_changes_when_the_customer_answers(state, answer):
    expires = NOW + timedelta(days=1)
    before = answer_order(state, expires, NOW, answer)
    after_expiry = answer_order(state, expires, expires, answer)
    if state is OrderState.PENDING:
        target = OrderState.CONFIRMED if answer is Answer.CONFIRM else OrderState.DECLINED
        assert before.changes and before.state is target
        assert not after_expiry.changes and after_expiry.state is OrderState.EXPIRED
    else:
        assert not before.changes and before.state is state
        assert not after_expiry.changes


def test_staff_may_change_only_pending_orders():
    expires = NOW + timedelta(days=1)
    assert staff_can_change("pending", expires, NOW)
    assert not staff_can_change("pending", expires, expires)
    for state in ("confirmed", "declined", "expired", "cancelled"):
        assert not staff_can_change(state, expires, NOW)


def test_the_filer_is_reminded_once_after_three_days_of_waiting():
    expires = NOW + timedelta(days=14)
    assert not reminder_due("pending", NOW, None, NOW + timedelta(days=2, hours=23), expires)
    assert reminder_due("pending", NOW, None, NOW + timedelta(days=3), expires)
    assert not reminder_due(
        "pending", NOW, NOW + timedelta(days=3), NOW + timedelta(days=4), expires
    )
    assert not reminder_due("confirmed", NOW, None, NOW + timedelta(days=4), expires)
    assert not reminder_due("pending", NOW, None, expires, expires)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", 25),
        ("1,000", 1000),
        (" 7 ", 7),
        (str(MAX_SEATS), MAX_SEATS),
    ],
)
def test_seat_counts_that_are_fine(text, expected):
    assert parse_seats(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "at least 1"),
        ("-3", "at least 1"),
        ("1.5", "whole number"),
        ("abc", "whole number"),
        (str(MAX_SEATS + 1), "at most 10,000 seats"),
        ("", "whole number"),
    ],
)
def test_seat_counts_that_are_refused_say_why(text, problem):
    answer = parse_seats(text)
    assert isinstance(answer, str) and problem in answer


def test_order_arguments_read_the_customer_from_the_left():
    assert parse_order_command("fabrikam dental exo 10", BUILT_IN) == OrderRequest(
        "fabrikam dental", "EXO", 10
    )
    assert parse_order_command("  contoso.com   bpos-s  25 ", BUILT_IN) == OrderRequest(
        "contoso.com", "BPOS-S", 25
    )
    assert parse_order_command("", BUILT_IN) == OpenModal()
    assert parse_order_command("list", BUILT_IN) == OrderSubcommand("list")
    assert parse_order_command("cancel #42", BUILT_IN) == OrderSubcommand("cancel", 42)
    assert parse_order_command("resend 7", BUILT_IN) == OrderSubcommand("resend", 7)
    # A customer named "list something" is still a customer.
    assert parse_order_command("list maker EXO 3", BUILT_IN) == OrderRequest("list maker", "EXO", 3)


def test_bad_order_arguments_name_the_problem_escaped():
    unknown = parse_order_command("contoso <!channel> 3", BUILT_IN)
    assert isinstance(unknown, BadArguments)
    assert "`&lt;!channel&gt;` is not a plan code" in unknown.problem
    for code in BUILT_IN.codes():
        assert f"`{code}`" in unknown.problem
    missing = parse_order_command("contoso EXO", BUILT_IN)
    assert isinstance(missing, BadArguments) and "Missing the seats" in missing.problem
    assert "Which order?" in parse_order_command("cancel", BUILT_IN).problem
    assert "is not an order id" in parse_order_command("resend abc", BUILT_IN).problem
