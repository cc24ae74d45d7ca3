"""A connected partner's customer confirms an order on the real page; the order is placed in the
local Partner Center and comes back in /subscription as Partner Center lists it. Failures keep
the confirmation; retries never place an order twice."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.partner_center.connect import store_user_consent
from bot.partner_center.placing import place_due_orders
from bot.partner_center.sealing import sealer, unseal
from bot.partner_center.sync import sync_partner
from storage import orders as order_rows
from storage.models import (
    Customer,
    Order,
    OutboxMessage,
    PartnerCenterConnection,
    Subscription,
)
from tests.e2e.test_order_pages import csrf_of, file, get, order_now, post, rows
from tests.utils.factories import make_customer, make_partner
from tests.utils.partner_center import connected, subscription

CONTOSO = "d8202a51-69f9-4228-b900-d0e081af17d7"
FILER = "U0FILER"


async def connected_partner(bot, sessions, *, existing: list[dict]):
    """A partner connected to the local Partner Center, whose customer Contoso is synced."""
    partner = await make_partner(sessions, name="Northwind Cloud", managers="U0MANAGER")
    account = await connected(bot.services, bot.partner_center, partner.id)
    account.add_customer(CONTOSO, "Contoso Dental", "contosodental.onmicrosoft.com")
    account.subscriptions[CONTOSO] += existing
    assert (await sync_partner(bot.services, partner.id)).problem is None
    async with sessions() as session:
        customer = (await session.exec(select(Customer))).one()
    return partner, customer, account


async def confirm(bot, token: str, **fields) -> tuple[int, str]:
    form = {"csrf": await csrf_of(bot, token), "email": "tania@contosodental.com", **fields}
    status, html, _ = await post(bot, f"/orders/{token}/confirm", form)
    return status, html


async def placement_texts(sessions, order_id: int) -> dict[str, str]:
    """The outbox's placement notices of an order, by the end of their key."""
    found = {}
    for row in await rows(sessions, OutboxMessage):
        if row.idempotency_key.startswith(f"order:{order_id}:placement:"):
            found[row.idempotency_key.split(":", 3)[3]] = json.loads(row.payload)["text"]
    return found


def later(bot, minutes: int) -> None:
    start = bot.services.clock()
    bot.services.clock = lambda: start + timedelta(minutes=minutes)


async def test_a_confirmed_order_is_placed_in_partner_center_and_shows_in_subscription(
    pc_bot, sessions
):
    partner, customer, account = await connected_partner(
        pc_bot, sessions, existing=[subscription("s-basic", quantity=25)]
    )
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BS", seats=12)
    _, page, _ = await get(pc_bot, f"/orders/{token}")
    assert "Microsoft Customer Agreement" not in page  # Contoso is no newcomer to Partner Center

    status, _ = await confirm(pc_bot, token, name="Tania Carr")
    assert status == 303
    confirmed = await order_now(sessions, order.id)
    assert (confirmed.state, confirmed.placement) == ("confirmed", "pending")
    # Nothing takes effect here before Partner Center has it: no subscription of our own.
    assert [s.plan_code for s in await rows(sessions, Subscription)] == ["M365-BB"]

    assert await place_due_orders(pc_bot.services) == 1

    writes = [r for r in pc_bot.partner_center.requests if r[0] == "POST"]
    assert [path.rsplit("/", 1)[-1] for _, path in writes] == ["carts", "checkout"]
    (bought,) = [s for s in account.subscriptions[CONTOSO] if s["id"] != "s-basic"]
    assert bought["offerId"].startswith("CFQ7TTC0LDPB:0001:") and bought["quantity"] == 12
    assert (await order_now(sessions, order.id)).placement == "placed"
    texts = await placement_texts(sessions, order.id)
    assert sorted(texts) == ["placed:channel", "placed:filer"]
    assert "Placed in Partner Center:* order" in texts["placed:filer"]

    answer = await pc_bot.slack.command("/subscription", "contoso", team_id=partner.team_id)
    assert "*M365-BS* — Microsoft 365 Business Standard · _active_" in answer.text
    assert "12 seats ×" in answer.text and "Figures from Partner Center, just now." in answer.text


async def test_a_seat_change_patches_the_partner_center_subscription(pc_bot, sessions):
    partner, customer, account = await connected_partner(
        pc_bot, sessions, existing=[subscription("s-basic", quantity=25)]
    )
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BB", seats=30)
    await confirm(pc_bot, token, name="Tania Carr")

    assert await place_due_orders(pc_bot.services) == 1

    patched = [r for r in pc_bot.partner_center.requests if r[0] == "PATCH"]
    assert patched == [("PATCH", f"/v1/customers/{CONTOSO}/subscriptions/s-basic")]
    assert account.subscriptions[CONTOSO][0]["quantity"] == 30
    (basic,) = await rows(sessions, Subscription)
    assert (basic.external_id, basic.seats) == ("s-basic", 30)


async def test_a_new_customer_accepts_the_customer_agreement_and_it_is_sent(pc_bot, sessions):
    partner, customer, account = await connected_partner(pc_bot, sessions, existing=[])
    app = account.app
    refresh_token = pc_bot.partner_center.entra.consent_user(app, "admin@northwind.example")
    await store_user_consent(pc_bot.services, partner_id=partner.id, refresh_token=refresh_token)
    async with sessions() as session:
        sealed = (await session.get(PartnerCenterConnection, partner.id)).sealed_user_token
    before = unseal(sealer(pc_bot.services.settings.partner_center_key), sealed)
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BB", seats=5)
    _, page, _ = await get(pc_bot, f"/orders/{token}")
    assert "Microsoft Customer Agreement" in page and 'name="first_name"' in page

    status, page = await confirm(pc_bot, token, first_name="Tania", last_name="Carr")
    assert status == 400 and "Tick the box to accept the Microsoft Customer Agreement." in page
    assert (await order_now(sessions, order.id)).state == "pending"
    status, _ = await confirm(
        pc_bot, token, first_name=" Tania ", last_name="Carr", phone="+1 425 555 0100",
        accept_agreement="yes",
    )  # fmt: skip
    assert status == 303
    confirmed = await order_now(sessions, order.id)
    assert confirmed.confirmer_name == "Tania Carr" and confirmed.mca_accepted_at is not None

    assert await place_due_orders(pc_bot.services) == 1

    agreement = account.agreements[CONTOSO]
    assert agreement["primaryContact"] == {
        "firstName": "Tania",
        "lastName": "Carr",
        "email": "tania@contosodental.com",
        "phoneNumber": "+1 425 555 0100",
    }
    assert agreement["templateId"] == "117a77b0-9360-443b-8795-c6dedc750cf9"
    assert agreement["type"] == "MicrosoftCustomerAgreement"
    assert agreement["dateAgreed"] == confirmed.mca_accepted_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert [s["quantity"] for s in account.subscriptions[CONTOSO]] == [5]
    # Each use of the admin's refresh token brings a newer one, which is kept.
    async with sessions() as session:
        stored = await session.get(PartnerCenterConnection, partner.id)
    keys = sealer(pc_bot.services.settings.partner_center_key)
    kept = unseal(keys, stored.sealed_user_token)
    assert (
        kept not in (refresh_token, before) and kept in pc_bot.partner_center.entra.refresh_tokens
    )


async def test_without_an_admins_consent_the_agreement_waits_and_the_filer_is_told(
    pc_bot, sessions
):
    partner, customer, account = await connected_partner(pc_bot, sessions, existing=[])
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BB", seats=5)
    await confirm(pc_bot, token, first_name="Tania", last_name="Carr", accept_agreement="yes")

    assert await place_due_orders(pc_bot.services) == 0

    waiting = await order_now(sessions, order.id)
    assert (waiting.state, waiting.placement) == ("confirmed", "pending")
    assert "an admin of your Partner Center account signs in once" in waiting.placement_problem
    assert account.subscriptions[CONTOSO] == [] and account.agreements == {}
    assert sorted(await placement_texts(sessions, order.id)) == [
        "pending:channel",
        "pending:filer",
    ]


async def test_a_lost_answer_keeps_the_confirmation_and_the_retry_places_it_once(pc_bot, sessions):
    partner, customer, account = await connected_partner(
        pc_bot, sessions, existing=[subscription("s-basic", quantity=25)]
    )
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BS", seats=12)
    await confirm(pc_bot, token, name="Tania Carr")
    # The cart is created; the checkout is carried out but its answer never arrives.
    pc_bot.partner_center.lose_answers(1, after=1)

    assert await place_due_orders(pc_bot.services) == 0
    failed = await order_now(sessions, order.id)
    assert (failed.state, failed.placement, failed.placement_attempts) == (
        "confirmed",
        "pending",
        1,
    )
    assert "Partner Center did not answer (HTTP 504" in failed.placement_problem
    assert len(account.subscriptions[CONTOSO]) == 2  # Partner Center did place it
    assert await place_due_orders(pc_bot.services) == 0  # not due again for a minute
    listed = await pc_bot.slack.command("/order", "list", team_id=partner.team_id)
    assert "not in Partner Center yet (partnerbot keeps trying)" in listed.text

    later(pc_bot, 2)
    assert await place_due_orders(pc_bot.services) == 1

    # The same request ids were answered with the first results: one cart, one order.
    assert len(account.carts) == 1 and len(account.subscriptions[CONTOSO]) == 2
    placed = await order_now(sessions, order.id)
    assert (placed.placement, placed.placement_attempts) == ("placed", 2)
    assert sorted(await placement_texts(sessions, order.id)) == [
        "pending:channel",
        "pending:filer",
        "placed:channel",
        "placed:filer",
    ]
    assert len([s for s in await rows(sessions, Subscription) if s.plan_code == "M365-BS"]) == 1


async def test_partner_centers_refusal_reaches_the_filer_in_its_words(pc_bot, sessions):
    partner, customer, account = await connected_partner(
        pc_bot, sessions, existing=[subscription("s-basic", quantity=25)]
    )
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BS", seats=301)
    await confirm(pc_bot, token, name="Tania Carr")

    assert await place_due_orders(pc_bot.services) == 0

    refused = await order_now(sessions, order.id)
    assert (refused.state, refused.placement) == ("confirmed", "refused")
    assert refused.placement_due_at is None
    texts = await placement_texts(sessions, order.id)
    assert "Quantity must be between 1 and 300" in texts["refused:channel"]
    assert len(account.subscriptions[CONTOSO]) == 1
    later(pc_bot, 600)
    assert await place_due_orders(pc_bot.services) == 0  # a refusal is not retried
    listed = await pc_bot.slack.command("/order", "list", team_id=partner.team_id)
    assert f"*#{order.id}* Contoso Dental — M365-BS × 301 · _confirmed_" in listed.text
    assert "· refused by Partner Center ·" in listed.text


async def test_an_order_of_a_partner_without_partner_center_takes_effect_here(pc_bot, sessions):
    partner = await make_partner(sessions, name="Fabrikam IT")
    customer = await make_customer(sessions, partner, name="Tailspin", domain="tailspin.com")
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BB", seats=3)
    await confirm(pc_bot, token, name="Ana Bowman")

    done = await order_now(sessions, order.id)
    assert (done.state, done.placement) == ("confirmed", "")
    (created,) = await rows(sessions, Subscription)
    assert (created.seats, created.source, created.external_id) == (3, "import", None)
    assert pc_bot.partner_center.requests == []


async def test_orders_are_claimed_once(pc_bot, sessions):
    partner, customer, _ = await connected_partner(
        pc_bot, sessions, existing=[subscription("s-basic", quantity=25)]
    )
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BB", seats=26)
    await confirm(pc_bot, token, name="Tania Carr")
    async with sessions() as session:
        stored = await session.get(Order, order.id)
        due_at = stored.placement_due_at
    async with sessions() as session:
        first = await order_rows.claim_placement(
            session=session, order_id=order.id, seen_due_at=due_at, next_at=due_at + timedelta(1)
        )
        second = await order_rows.claim_placement(
            session=session, order_id=order.id, seen_due_at=due_at, next_at=due_at + timedelta(1)
        )
        await session.commit()
    assert (first, second) == (True, False)
    assert not [r for r in pc_bot.partner_center.requests if r[0] == "PATCH"]


async def test_the_confirmation_notice_says_the_order_is_being_placed(pc_bot, sessions):
    partner, customer, _ = await connected_partner(
        pc_bot, sessions, existing=[subscription("s-basic", quantity=25)]
    )
    order, token = await file(pc_bot, sessions, partner, customer, plan="M365-BB", seats=26)
    await confirm(pc_bot, token, name="Tania Carr")

    (notice,) = [
        json.loads(row.payload)
        for row in await rows(sessions, OutboxMessage)
        if row.idempotency_key == f"order:{order.id}:confirmed:filer"
    ]
    text = json.dumps(notice["blocks"])
    assert "the subscription is being placed in Partner Center (" in text
    assert "is in place" not in text
