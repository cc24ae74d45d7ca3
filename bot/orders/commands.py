"""The /order command and the order form: what was typed, clicked or submitted, which flow it
calls, and the answers to send back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.arguments import whole_number
from bot.blocks import Message
from bot.catalogue import Plan
from bot.customers import Choices, NoMatch, customers_matching
from bot.errors import UserError
from bot.orders import cuts, flows, staff
from bot.orders import messages as order_messages
from bot.orders.cuts import CutAction, CutToConfirm
from bot.orders.messages import OrderAction
from bot.orders.rules import (
    MAX_SEATS,
    BadArguments,
    OpenModal,
    OrderDescription,
    OrderRequest,
    OrderSubcommand,
    describe,
    link_for,
    parse_order_command,
    parse_seats,
)
from bot.picking import choice, customer_options
from bot.services import Services
from storage.models import Partner

# A pick button's or menu option's value: "<customer id>:<plan code>:<seats>".
PICKED = re.compile(r"^(\d+):([A-Za-z0-9_-]{1,16}):(\d+)$")
MAX_FORM_OPTIONS = 100


@dataclass(frozen=True)
class OpenForm:
    """`/order` alone: open this form (a modal view)."""

    view: dict


async def order_answer(
    text: str, *, partner: Partner, services: Services, user_id: str, channel_id: str
) -> list[Message] | OpenForm:
    """Answers `/order …`: the form, a subcommand's answer, or the order filed from the text."""
    parsed = parse_order_command(text, services.catalogue)
    if isinstance(parsed, OpenModal):
        return OpenForm(order_messages.order_form(services.catalogue, private_metadata=channel_id))
    if isinstance(parsed, BadArguments):
        return order_messages.problem(parsed.problem)
    if isinstance(parsed, OrderSubcommand):
        return await subcommand_answer(parsed, partner=partner, services=services, user_id=user_id)
    return await file_from_text(parsed, partner=partner, services=services, user_id=user_id)


def described_with_link(
    outcome, *, partner: Partner, services: Services
) -> tuple[OrderDescription, str]:
    """An order filed or sent again, in words and figures, with the link for its customer."""
    described = describe(
        outcome.order,
        customer=outcome.customer,
        partner=partner,
        catalogue=services.catalogue,
        time_zone=partner.timezone,
        vendor=services.settings.vendor_name,
    )
    return described, link_for(services.settings.base_url, outcome.token)


def filing_answer(
    filing: flows.Filing,
    *,
    partner: Partner,
    services: Services,
    plan: Plan,
    seats: int,
    query: str = "",
) -> list[Message]:
    """Turns what filing came to into the answer for the filer."""
    if isinstance(filing, flows.Filed):
        return order_messages.filed(
            *described_with_link(filing, partner=partner, services=services)
        )
    if isinstance(filing, Choices):
        return order_messages.choices(
            query,
            [choice(c) for c in filing.customers],
            filing.total,
            plan_code=plan.code,
            seats=seats,
        )
    if isinstance(filing, CutToConfirm):
        return cuts.cut_question(filing)
    if isinstance(filing, NoMatch):
        return order_messages.no_match(
            query, [choice(c) for c in filing.suggestions], plan_code=plan.code, seats=seats
        )
    return order_messages.problem(filing.problem)


async def file_from_text(
    request: OrderRequest, *, partner: Partner, services: Services, user_id: str
) -> list[Message]:
    """Files the order typed after /order, for the one customer the text finds."""
    plan = services.catalogue.get(request.plan_code)
    assert plan is not None, "the parser only lets catalogue plans through"
    async with services.sessions() as session:
        filing = await flows.file_order(
            session,
            partner=partner,
            plan=plan,
            seats=request.seats,
            filed_by=user_id,
            now=services.clock(),
            ttl_days=services.settings.order_link_ttl_days,
            customer_query=request.customer_query,
        )
    return filing_answer(
        filing,
        partner=partner,
        services=services,
        plan=plan,
        seats=request.seats,
        query=request.customer_query,
    )


async def subcommand_answer(
    parsed: OrderSubcommand, *, partner: Partner, services: Services, user_id: str
) -> list[Message]:
    """Answers `/order help`, `/order list`, `/order cancel <id>` and `/order resend <id>`."""
    now = services.clock()
    if parsed.name == "help":
        return order_messages.usage()
    async with services.sessions() as session:
        if parsed.name == "list":
            rows = await staff.recent_orders(session, partner=partner, now=now)
            return order_messages.order_list(rows, time_zone=partner.timezone, now=now)
        assert parsed.order_id is not None
        if parsed.name == "cancel":
            change = await staff.cancel_order(
                session, partner=partner, order_id=parsed.order_id, by=user_id, now=now
            )
        else:
            change = await staff.resend_order(
                session,
                partner=partner,
                order_id=parsed.order_id,
                now=now,
                ttl_days=services.settings.order_link_ttl_days,
            )
    return change_answer(parsed, change, partner=partner, services=services)


def change_answer(
    parsed: OrderSubcommand, change: staff.StaffChange, *, partner: Partner, services: Services
) -> list[Message]:
    """What cancel or resend came to, for the one who asked."""
    assert parsed.order_id is not None
    if change.order is None:
        return order_messages.not_found(parsed.order_id)
    if not change.changed:
        action = "cancelled" if parsed.name == "cancel" else "sent again"
        return order_messages.cannot_change(parsed.order_id, change.customer, change.state, action)
    if parsed.name == "cancel":
        return order_messages.cancelled(parsed.order_id, change.customer)
    described, link = described_with_link(change, partner=partner, services=services)
    return order_messages.filed(described, link, resent=True)


async def file_for_customer(
    services: Services,
    *,
    partner: Partner,
    plan: Plan,
    seats: int,
    user_id: str,
    customer_id: int,
    note: str = "",
    seen_seats: int | None = None,
) -> flows.Filing:
    """Files an order for a customer picked by id (from a list, the form or a reading of a
    cut)."""
    async with services.sessions() as session:
        return await flows.file_order(
            session,
            partner=partner,
            plan=plan,
            seats=seats,
            filed_by=user_id,
            now=services.clock(),
            ttl_days=services.settings.order_link_ttl_days,
            customer_id=customer_id,
            note=note,
            seen_seats=seen_seats,
        )


OUT_OF_DATE = "That choice is out of date; type the order again."


async def file_choice(
    value: str, *, partner: Partner, services: Services, user_id: str, note: str = ""
) -> tuple[flows.Filing, Plan, int]:
    """Files the reading of a seat cut that was picked (a button's or the form's value)."""
    picked = cuts.parse_choice(value)
    plan = services.catalogue.get(picked.plan_code) if picked else None
    if picked is None or plan is None or not 1 <= picked.seats <= MAX_SEATS:
        raise UserError(OUT_OF_DATE)
    filing = await file_for_customer(
        services,
        partner=partner,
        plan=plan,
        seats=picked.seats,
        user_id=user_id,
        customer_id=picked.customer_id,
        note=note,
        seen_seats=picked.seen,
    )
    return filing, plan, picked.seats


async def cut_answer(
    action_id: str, value: str, *, partner: Partner, services: Services, user_id: str
) -> list[Message]:
    """Answers a click on the question about a seat cut: the order as picked, or nothing."""
    if action_id == CutAction.NEITHER:
        return cuts.nothing_filed()
    try:
        filing, plan, seats = await file_choice(
            value, partner=partner, services=services, user_id=user_id
        )
    except UserError as problem:
        return order_messages.problem(str(problem))
    return filing_answer(filing, partner=partner, services=services, plan=plan, seats=seats)


async def submit_cut_form(
    values: dict[str, str],
    private_metadata: str,
    *,
    partner: Partner,
    services: Services,
    user_id: str,
) -> FormOutcome:
    """Files the reading of a cut picked in the order form's second step."""
    try:
        filing, plan, seats = await file_choice(
            values.get(CutAction.READING, ""),
            partner=partner,
            services=services,
            user_id=user_id,
            note=cuts.note_of(private_metadata),
        )
    except UserError as problem:
        return FormOutcome(errors={CutAction.READING: str(problem)})
    if isinstance(filing, flows.Refused):
        return FormOutcome(errors={CutAction.READING: filing.problem})
    answers = filing_answer(filing, partner=partner, services=services, plan=plan, seats=seats)
    return FormOutcome(view=order_messages.form_result(answers))


async def pick_answer(
    value: str, *, partner: Partner, services: Services, user_id: str
) -> list[Message]:
    """Files the order for the customer picked from a list of matches (a button's or a menu
    option's value)."""
    picked = PICKED.match(value)
    plan = services.catalogue.get(picked.group(2)) if picked else None
    seats = parse_seats(picked.group(3)) if picked else "no seats"
    if picked is None or plan is None or isinstance(seats, str):
        return order_messages.problem("That choice is out of date; type the order again.")
    filing = await file_for_customer(
        services,
        partner=partner,
        plan=plan,
        seats=seats,
        user_id=user_id,
        customer_id=int(picked.group(1)),
    )
    return filing_answer(filing, partner=partner, services=services, plan=plan, seats=seats)


@dataclass(frozen=True)
class FormOutcome:
    """How to acknowledge a submitted order form: errors by field, or the view that replaces it."""

    errors: dict[str, str] = field(default_factory=dict)
    view: dict | None = None

    def ack_arguments(self) -> dict:
        if self.errors:
            return {"response_action": "errors", "errors": self.errors}
        return {"response_action": "update", "view": self.view}


def form_failure(text: str, *, under: str = OrderAction.SEATS) -> FormOutcome:
    """A failure to show on the form (under the field nearest the button: the seats)."""
    return FormOutcome(errors={under: text})


async def submit_order_form(
    values: dict[str, str], *, partner: Partner, services: Services, user_id: str
) -> FormOutcome:
    """Checks the order form's plan, seats and customer, and files the order it describes."""
    errors = {}
    plan = services.catalogue.get(values.get(OrderAction.PLAN, ""))
    seats = parse_seats(values.get(OrderAction.SEATS, ""))
    customer_id = values.get(OrderAction.CUSTOMER, "")
    if plan is None:
        errors[OrderAction.PLAN] = "Pick a plan from the list."
    if isinstance(seats, str):
        errors[OrderAction.SEATS] = seats.replace("`", "")
    if not whole_number(customer_id):
        errors[OrderAction.CUSTOMER] = "Pick a customer from the search."
    if errors or plan is None or isinstance(seats, str):
        return FormOutcome(errors=errors)
    filing = await file_for_customer(
        services,
        partner=partner,
        plan=plan,
        seats=seats,
        user_id=user_id,
        customer_id=int(customer_id),
        note=values.get(OrderAction.NOTE, ""),
    )
    if isinstance(filing, flows.Refused):
        return FormOutcome(errors={OrderAction.CUSTOMER: filing.problem})
    if isinstance(filing, CutToConfirm):
        return FormOutcome(view=cuts.cut_form(filing, note=values.get(OrderAction.NOTE, "")))
    answers = filing_answer(filing, partner=partner, services=services, plan=plan, seats=seats)
    return FormOutcome(view=order_messages.form_result(answers))


async def customer_search_options(text: str, *, partner: Partner, services: Services) -> list[dict]:
    """The form's customer search: options for the partner's customers matching what was typed."""
    async with services.sessions() as session:
        found = await customers_matching(
            session, partner_id=partner.id, text=text, limit=MAX_FORM_OPTIONS
        )
    return customer_options([choice(c) for c in found])
