"""Block Kit for /order: the filed order with its link, choices, the list, the form, and the
notifications about the customer's answer, expiry and reminders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.blocks import (
    MAX_OPTION_TEXT,
    Message,
    context,
    escape,
    header,
    messages,
    plain,
    plural,
    section,
    shorten,
)
from bot.catalogue import Catalogue
from bot.orders.rules import (
    MAX_NOTE_LENGTH,
    MAX_SEATS,
    USAGE,
    OrderDescription,
    OrderState,
    change_words,
    describe,
    effective_state,
)
from bot.picking import CustomerChoice, pick_action_ids, pick_block
from bot.zones import when_in
from storage.models import Customer, Order, Partner

MAX_MODAL_BLOCKS = 100

EXAMPLES = (
    "`/order obriensonsplumbing.onmicrosoft.com OLM 10` — 10 seats of OLM, customer by domain",
    "`/order sons plumbing OLM 10` — customer by name (it may have spaces)",
    "`/order` — a form with a customer search",
    "`/order list` · `/order resend 1` · `/order cancel 1`",
)


class OrderAction(StrEnum):
    """Action, block and callback ids of the /order messages and form."""

    PICK_CUSTOMER = "order_pick_customer"  # buttons add ":<n>"; values are "<customer>:<plan>:<n>"
    PICK_CUSTOMER_SELECT = "order_pick_customer_select"
    FORM = "order_form"
    CUSTOMER = "order_customer"
    PLAN = "order_plan"
    SEATS = "order_seats"
    NOTE = "order_note"


PICK_ACTIONS = {
    "button_action": OrderAction.PICK_CUSTOMER,
    "select_action": OrderAction.PICK_CUSTOMER_SELECT,
}
# Every action id of a customer pick: the numbered buttons and the menu.
PICK_CUSTOMER_ACTIONS = pick_action_ids(**PICK_ACTIONS)


STATE_WORDS = {
    OrderState.PENDING: "waiting for the customer",
    OrderState.CONFIRMED: "confirmed",
    OrderState.DECLINED: "declined",
    OrderState.EXPIRED: "expired",
    OrderState.CANCELLED: "cancelled",
}
# Where a confirmed order of a connected partner stands in Partner Center.
PLACEMENT_WORDS = {
    "pending": "not in Partner Center yet (partnerbot keeps trying)",
    "placed": "placed in Partner Center",
    "refused": "refused by Partner Center",
}


def email_text(order: OrderDescription, link: str) -> str:
    """What the partner can paste into an email to the customer (plain text, not mrkdwn), in the
    customer's words and time zone."""
    return "\n".join(
        (
            f"Subject: Please confirm your order for {order.plan_name}",
            "",
            f"Hello {order.contact_name or order.customer_name},",
            "",
            f"As agreed, we have prepared your order: {order.customer_words}, "
            f"at {order.unit_price} per seat per month ({order.monthly} a month, "
            f"{order.annual} a year).",
            "",
            "Please review it and confirm or decline it here:",
            link,
            "",
            f"The link works until {order.expires_for_customer}. If you have any questions, "
            "just reply to this email.",
            "",
            "Kind regards,",
            order.partner_name,
        )
    )


def order_fields(order: OrderDescription) -> str:
    """The order's figures in a few lines of mrkdwn."""
    lines = [
        f"*Customer:* {escape(order.customer_name)} · {escape(order.customer_domain)}",
        f"*Plan:* {escape(order.plan_code)} — {escape(order.plan_name)}",
        f"*Seats:* {order.seats:,} — {escape(order.change_words)}",
        f"*Price:* {order.unit_price} per seat per month = *{order.monthly} a month* · "
        f"{order.annual} a year",
        f"*Billed by:* {escape(order.billing_owner)} · *Partner of record:* "
        f"{escape(order.partner_name)}",
        f"*Link valid until:* {order.expires}",
    ]
    if order.note:
        lines.append(f"*Note:* {escape(order.note)}")
    return "\n".join(lines)


def filed(order: OrderDescription, link: str, *, resent: bool = False) -> list[Message]:
    """The answer to the filer: the order, its link, and text ready to send."""
    title = f"Order #{order.number} — new link" if resent else f"Order #{order.number} filed"
    blocks = [
        header(f"{title}: waiting for {order.customer_name}"),
        section(order_fields(order)),
        section(f"*Confirmation link* (send it to the customer):\n{link}"),
        section("*Ready to send:*\n```" + escape(email_text(order, link)) + "```"),
        context(
            "The customer confirms or declines on the page; you will hear about it here and in "
            "your orders channel. "
            + ("The previous link no longer works. " if resent else "")
            + f"`/order cancel {order.number}` withdraws it; `/order resend {order.number}` "
            "sends a fresh link."
        ),
    ]
    return messages(f"Order #{order.number} filed for {escape(order.customer_name)}", blocks)


def choices(
    query: str, found: list[CustomerChoice], total: int, *, plan_code: str, seats: int
) -> list[Message]:
    """Several customers match: pick one and the order is filed for it."""
    blocks = [
        section(
            f"*{plural(total, 'customer')} match “{escape(query)}”* — pick the one to order "
            f"{seats:,} seats of {escape(plan_code)} for:"
        ),
        pick_block("order_pick", found, **PICK_ACTIONS, suffix=f":{plan_code}:{seats}"),
    ]
    if total > len(found):
        blocks.append(
            context(
                f"Showing the first {len(found):,} of {total:,}; type more of "
                "the name or the whole domain to narrow it down."
            )
        )
    return messages(f"{total:,} customers match; pick one", blocks)


def no_match(
    query: str, suggestions: list[CustomerChoice], *, plan_code: str, seats: int
) -> list[Message]:
    """Nothing matches: nothing filed, suggestions to file it for instead."""
    blocks = [section(f"No customer of yours matches “{escape(query)}”, so nothing was filed.")]
    if suggestions:
        blocks.append(section("*Did you mean…* (a click files the order for that customer)"))
        blocks.append(
            pick_block(
                "order_suggestions", suggestions, **PICK_ACTIONS, suffix=f":{plan_code}:{seats}"
            )
        )
    blocks.append(context(USAGE))
    return messages(f"No customer matches {escape(query)}", blocks)


def problem(text: str) -> list[Message]:
    """A bad argument or a refused order: what is wrong, and that nothing was filed."""
    return messages(text, [section(text)])


def usage() -> list[Message]:
    return messages(
        "How to use /order",
        [
            section(
                "*`/order &lt;customer&gt; &lt;plan code&gt; &lt;seats&gt;`* files an order and "
                "gives you a confirmation link for the customer.\nExamples:\n"
                + "\n".join(f"• {example}" for example in EXAMPLES)
            )
        ],
    )


def order_list(
    rows: list[tuple[Order, Customer]], *, time_zone: str, now: datetime
) -> list[Message]:
    """The partner's pending and recent orders."""
    if not rows:
        return messages(
            "No orders yet",
            [section("No pending orders and none in the last 30 days. " + USAGE)],
        )
    lines = []
    for order, customer in rows:
        state = effective_state(order.state, order.expires_at, now)
        when = when_in(order.decided_at or order.filed_at, time_zone)
        detail = f"filed {when}" if state is OrderState.PENDING else f"{state.value} {when}"
        if state is OrderState.PENDING:
            detail += f" · link valid until {when_in(order.expires_at, time_zone)}"
        if order.placement:
            detail += f" · {PLACEMENT_WORDS[order.placement]}"
        lines.append(
            f"*#{order.id}* {escape(customer.name)} — {escape(order.plan_code)} × "
            f"{order.seats:,} · _{STATE_WORDS[state]}_ · {detail} · by <@{order.filed_by}>"
        )
    blocks = [header("Orders: pending and the last 30 days")]
    blocks += [section("\n".join(lines[i : i + 10])) for i in range(0, len(lines), 10)]
    blocks.append(
        context(
            "`/order cancel &lt;id&gt;` withdraws a pending order; "
            "`/order resend &lt;id&gt;` sends a fresh link."
        )
    )
    return messages(f"{len(rows)} orders", blocks)


def not_found(order_id: int) -> list[Message]:
    return problem(f"There is no order #{order_id} of yours. `/order list` shows your orders.")


# Why an order that is no longer pending cannot be cancelled or sent again, by its state.
CANNOT_CANCEL = {
    OrderState.CANCELLED: "is already cancelled; nothing changed.",
    OrderState.CONFIRMED: "was confirmed by the customer, so it can no longer be cancelled; "
    "nothing changed.",
    OrderState.DECLINED: "was declined by the customer, so there is nothing to cancel.",
    OrderState.EXPIRED: "has expired, so there is nothing to cancel: its link no longer works.",
}
CANNOT_RESEND = {
    OrderState.CANCELLED: "is cancelled, so it cannot be sent again; nothing changed.",
    OrderState.CONFIRMED: "was confirmed by the customer already; there is nothing to send.",
    OrderState.DECLINED: "was declined by the customer, so it cannot be sent again; nothing "
    "changed.",
    OrderState.EXPIRED: "has expired, so its link cannot be sent again; nothing changed.",
}


def cannot_change(
    order_id: int, customer: Customer | None, state: OrderState, action: str
) -> list[Message]:
    """Cancel or resend (`action` "cancelled" or "sent again") on an order that is no longer
    pending."""
    who = f" for {escape(customer.name)}" if customer else ""
    why = (CANNOT_CANCEL if action == "cancelled" else CANNOT_RESEND)[state]
    hint = " File a new one with `/order`." if state is OrderState.EXPIRED else ""
    return problem(f"Order #{order_id}{who} {why}{hint}")


def cancelled(order_id: int, customer: Customer | None) -> list[Message]:
    who = f" for {escape(customer.name)}" if customer else ""
    return problem(f"Order #{order_id}{who} is cancelled. Its link no longer works.")


def answered(
    order: Order, *, customer: Customer, partner: Partner, catalogue: Catalogue, vendor: str
) -> Message:
    """The customer confirmed or declined: for the orders channel and the filer."""
    described = describe(
        order,
        customer=customer,
        partner=partner,
        catalogue=catalogue,
        time_zone=partner.timezone,
        vendor=vendor,
    )
    who = escape(order.confirmer_name) or "the customer"
    if order.confirmer_email:
        who += f" ({escape(order.confirmer_email)})"
    when = when_in(order.decided_at or order.filed_at, partner.timezone)
    if order.state == OrderState.CONFIRMED:
        title = f"✅ {customer.name} confirmed order #{order.id}"
        effect = "is being placed in Partner Center" if order.placement else "is in place"
        body = (
            f"Confirmed by {who} on {when}. {escape(partner.name)} is now partner of record; "
            f"the subscription {effect} ({escape(described.change_words)})."
        )
    else:
        title = f"✋ {customer.name} declined order #{order.id}"
        reason = f" Reason: “{escape(order.decline_reason)}”." if order.decline_reason else ""
        body = f"Declined by {who} on {when}.{reason} Nothing was changed."
    blocks = [
        header(title),
        section(body),
        section(order_fields(described)),
        context(f"Filed by <@{order.filed_by}>."),
    ]
    return messages(shorten(escape(title), 150), blocks)[0]


def expired(order: Order, *, customer: Customer, partner: Partner) -> Message:
    """The filer's DM when an order's link expired unanswered."""
    title = f"⌛ Order #{order.id} for {customer.name} expired"
    blocks = [
        header(title),
        section(
            f"{escape(customer.name)} did not answer before "
            f"{when_in(order.expires_at, partner.timezone)}, so the link no longer works and "
            "nothing was changed. File it again with "
            f"`/order {escape(customer.domain)} {escape(order.plan_code)} {order.seats}` "
            "if the customer still wants it."
        ),
    ]
    return messages(shorten(escape(title), 150), blocks)[0]


def reminder(order: Order, *, customer: Customer, partner: Partner) -> Message:
    """The filer's DM when an order has waited 3 days."""
    title = f"⏰ Order #{order.id} for {customer.name} is still waiting"
    change = change_words(order.plan_code, order.seats, order.previous_seats)
    blocks = [
        header(title),
        section(
            f"{escape(customer.name)} has not answered order #{order.id} "
            f"({escape(change)}) yet. Its link works until "
            f"{when_in(order.expires_at, partner.timezone)}. A nudge may help; "
            f"`/order resend {order.id}` gives you a fresh link if the old one got lost, "
            f"`/order cancel {order.id}` withdraws it."
        ),
    ]
    return messages(shorten(escape(title), 150), blocks)[0]


# The order form (a modal) and what it shows once the order is filed.


def order_form(catalogue: Catalogue, *, private_metadata: str = "") -> dict:
    """The modal `/order` opens: customer (searched in the database as you type), plan, seats."""
    plan_options = [
        {"text": plain(shorten(f"{plan.code} — {plan.name}", MAX_OPTION_TEXT)), "value": plan.code}
        for plan in catalogue.plans.values()
    ]
    return {
        "type": "modal",
        "callback_id": OrderAction.FORM,
        "private_metadata": private_metadata,
        "title": plain("New order"),
        "submit": plain("File order"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": OrderAction.CUSTOMER,
                "label": plain("Customer"),
                "element": {
                    "type": "external_select",
                    "action_id": OrderAction.CUSTOMER,
                    "placeholder": plain("Type part of a name or domain"),
                    "min_query_length": 2,
                },
            },
            {
                "type": "input",
                "block_id": OrderAction.PLAN,
                "label": plain("Plan"),
                "element": {
                    "type": "static_select",
                    "action_id": OrderAction.PLAN,
                    "options": plan_options,
                },
            },
            {
                "type": "input",
                "block_id": OrderAction.SEATS,
                "label": plain("Seats"),
                "hint": plain(f"The seats the customer should have in total, 1 to {MAX_SEATS:,}."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": OrderAction.SEATS,
                    "placeholder": plain("e.g. 25"),
                },
            },
            {
                "type": "input",
                "block_id": OrderAction.NOTE,
                "optional": True,
                "label": plain("Note for the customer"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": OrderAction.NOTE,
                    "multiline": True,
                    "max_length": MAX_NOTE_LENGTH,
                },
            },
        ],
    }


def form_result(blocks_of: list[Message]) -> dict:
    """The form, replaced by the answer once the order is filed (its text can be copied)."""
    blocks = [block for message in blocks_of for block in message.blocks]
    return {
        "type": "modal",
        "callback_id": f"{OrderAction.FORM}_done",
        "title": plain("Order filed"),
        "close": plain("Done"),
        "blocks": blocks[:MAX_MODAL_BLOCKS],
    }
