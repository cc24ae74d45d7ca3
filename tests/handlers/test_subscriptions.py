"""The /subscription listeners called as bolt calls them: acked first, then answered privately."""

from __future__ import annotations

from datetime import date

from handlers.subscriptions import pick_customer, subscription_command
from storage import partners
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.listeners import FakeAck, FakeRespond, listener_context
from tests.utils.slack import mrkdwn_texts


async def test_the_command_acks_then_answers_privately_with_the_customer(services, sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    await make_subscription(sessions, customer, plan_code="EXO", seats=3, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip
    ack, respond = FakeAck(), FakeRespond()

    await subscription_command(
        ack, {"text": "contoso"}, respond, listener_context(services, partner)
    )

    assert ack.calls == [{}]
    [answer] = respond.calls
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Contoso Dental" in answer["text"]
    assert "3 seats" in str(answer["blocks"])


async def test_the_command_without_text_says_how_to_use_it(services, sessions):
    partner = await make_partner(sessions)
    respond = FakeRespond()

    await subscription_command(FakeAck(), {}, respond, listener_context(services, partner))

    assert respond.texts == ["How to use /subscription"]


async def test_picking_a_customer_replaces_the_choices_with_its_subscriptions(services, sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Fabrikam Dental")
    respond = FakeRespond()

    await pick_customer(
        FakeAck(),
        {"selected_option": {"value": str(customer.id)}},
        respond,
        listener_context(services, partner),
    )

    [answer] = respond.calls
    assert answer["replace_original"] is True and "Fabrikam Dental" in answer["text"]


async def test_picking_another_partners_customer_says_it_is_not_among_yours(services, sessions):
    mine, theirs = await make_partner(sessions), await make_partner(sessions, name="Other IT")
    customer = await make_customer(sessions, theirs, name="Secret Customer")
    respond = FakeRespond()

    for value in (str(customer.id), "not-a-number", "²"):
        await pick_customer(FakeAck(), {"value": value}, respond, listener_context(services, mine))

    assert respond.texts == ["That customer is no longer available"] * 3
    assert "Secret Customer" not in str(respond.calls)


# Who sees the money: a partner may keep commission, or commission and prices, for its managers.


async def money_partner(sessions, setting: str):
    partner = await make_partner(sessions, managers="U0BOSS")
    async with sessions() as session:
        partner = await partners.set_money_setting(
            session=session, partner_id=partner.id, setting=setting
        )
        await session.commit()
    customer = await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    await make_subscription(sessions, customer, plan_code="EXO", seats=3, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip
    return partner, customer


async def asked_by(services, partner, user_id: str) -> str:
    respond = FakeRespond()
    await subscription_command(
        FakeAck(), {"text": "contoso", "user_id": user_id}, respond,
        listener_context(services, partner),
    )  # fmt: skip
    [answer] = respond.calls
    return "\n".join(mrkdwn_texts(answer["blocks"]))


async def test_by_default_everyone_sees_commission_and_prices(services, sessions):
    partner, _ = await money_partner(sessions, "none")

    text = await asked_by(services, partner, "U0STAFF")

    assert "3 seats × $5.00 per seat = *$15.00 a month*" in text
    assert "Your commission: earned to date" in text and "Commission: 12%" in text


async def test_commission_for_managers_only_keeps_it_from_others_but_shows_prices(
    services, sessions
):
    partner, _ = await money_partner(sessions, "commission")

    staff = await asked_by(services, partner, "U0STAFF")
    manager = await asked_by(services, partner, "U0BOSS")

    assert "commission" not in staff.casefold() and "earned" not in staff
    assert "3 seats × $5.00 per seat = *$15.00 a month*" in staff
    assert "3 seats · billed annually by the partner" not in staff
    assert "Your commission: earned to date" in manager and "Commission: 12%" in manager


async def test_commission_and_prices_for_managers_only_leave_others_no_money_at_all(
    services, sessions
):
    partner, customer = await money_partner(sessions, "all")

    staff = await asked_by(services, partner, "U0STAFF")
    picked = FakeRespond()
    await pick_customer(
        FakeAck(), {"value": str(customer.id)}, picked, listener_context(services, partner),
        {"user": {"id": "U0BOSS"}},
    )  # fmt: skip

    assert "$" not in staff and "commission" not in staff.casefold()
    assert "3 seats · billed annually by the partner" in staff
    assert "1 subscription* (1 active) · 3 active seats" in staff
    manager = "\n".join(mrkdwn_texts(picked.calls[0]["blocks"]))
    assert "*$15.00 a month*" in manager and "Your commission: earned to date" in manager
