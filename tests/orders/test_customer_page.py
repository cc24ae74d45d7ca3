"""The customer page's decisions without a browser: who answered, what a confirmation lacks,
who bills."""

from __future__ import annotations

import dataclasses

from bot.catalogue import BUILT_IN
from bot.orders import flows
from bot.orders.customer_page import (
    BackToOrder,
    PostedAnswer,
    confirmer_of,
    page_for_link,
    problems,
)
from bot.orders.rules import Answer
from tests.utils.orders import NOW


def test_the_confirmer_is_recorded_as_typed_with_spaces_tidied():
    confirmer = confirmer_of(
        PostedAnswer(
            name="  Jane \n Doe ", email=" jane@x.com ", reason=" too dear ",
            remote="198.51.100.2", user_agent="Mozilla/5.0 (Test)",
        )
    )  # fmt: skip
    assert confirmer.name == "Jane Doe"
    assert confirmer.email == "jane@x.com"
    assert confirmer.reason == "too dear"
    assert confirmer.ip == "198.51.100.2"
    assert confirmer.user_agent == "Mozilla/5.0 (Test)"


def test_behind_a_proxy_the_first_forwarded_address_is_recorded_with_the_proxys():
    posted = PostedAnswer(forwarded_for="203.0.113.7, 10.0.0.1", remote="10.0.0.9")
    assert confirmer_of(posted).ip == "203.0.113.7 via 10.0.0.9"
    assert confirmer_of(PostedAnswer(forwarded_for="10.0.0.9", remote="10.0.0.9")).ip == "10.0.0.9"


def test_a_confirmation_needs_a_name_and_an_email_address_a_decline_nothing():
    empty = confirmer_of(PostedAnswer(email="jane@x"))
    assert problems(Answer.CONFIRM, empty) == (
        "Type your name.",
        "Type your email address, such as name@example.com.",
    )
    assert problems(Answer.DECLINE, empty) == ()
    complete = confirmer_of(PostedAnswer(name="Jane", email="jane@x.com"))
    assert problems(Answer.CONFIRM, complete) == ()


def test_after_an_answer_the_browser_goes_back_to_the_orders_page():
    assert BackToOrder("T" * 43, receipt_for=7).location == "/orders/" + "T" * 43


def test_fields_longer_than_the_audit_trail_keeps_are_refused_in_words_in_either_answer():
    long = confirmer_of(PostedAnswer(name="J" * 201, email="j" * 250 + "@x.com", reason="r" * 1001))
    expected = (
        "Your name can be at most 200 characters.",
        "Your email address can be at most 254 characters.",
        "The reason can be at most 1,000 characters.",
    )
    assert problems(Answer.DECLINE, long) == expected
    assert problems(Answer.CONFIRM, long)[-3:] == expected
    at_most = confirmer_of(
        PostedAnswer(name="J" * 200, email="j" * 248 + "@x.com", reason="r" * 1000)
    )
    assert problems(Answer.CONFIRM, at_most) == ()


async def test_the_page_names_the_vendor_the_operator_set(services, partner, customer, sessions):
    renamed = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"vendor_name": "Contoso Cloud"})
    )
    async with sessions() as session:
        filed = await flows.file_order(
            session, partner=partner, plan=BUILT_IN.get("EXO"), seats=3, filed_by="U0FILER",
            now=NOW, ttl_days=14, customer_id=customer.id,
        )  # fmt: skip
    renamed = dataclasses.replace(renamed, clock=lambda: NOW)

    page = await page_for_link(renamed, token=filed.token, receipt="")

    assert page.values["order"].billing_owner == "Contoso Cloud"


def test_the_customer_agreement_needs_both_names_a_phone_or_none_and_the_box_ticked():
    empty = confirmer_of(PostedAnswer(email="jane@x.com", phone="call me"))
    assert problems(Answer.CONFIRM, empty, agreement=False) == (
        "Type your first name.",
        "Type your last name.",
        "Type your phone number with digits, spaces and + ( ) - . only, or none.",
        "Tick the box to accept the Microsoft Customer Agreement.",
    )
    # A decline accepts nothing, so it needs nothing.
    assert problems(Answer.DECLINE, empty, agreement=False) == ()
    typed = PostedAnswer(first_name=" Jane ", last_name="Doe", email="jane@x.com")
    complete = confirmer_of(typed)
    assert (complete.name, complete.first_name, complete.last_name) == ("Jane Doe", "Jane", "Doe")
    assert problems(Answer.CONFIRM, complete, agreement=True) == ()
    with_phone = confirmer_of(dataclasses.replace(typed, phone="+49 (30) 555-0100"))
    assert problems(Answer.CONFIRM, with_phone, agreement=True) == ()
