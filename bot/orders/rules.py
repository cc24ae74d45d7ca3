"""Order rules: link tokens, CSRF tokens, expiry, state transitions and the /order arguments."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.arguments import clean_query, whole_number
from bot.blocks import escape, plural
from bot.catalogue import Catalogue
from bot.money import annual_value, format_money, monthly_value
from bot.zones import when_in

TOKEN_BYTES = 32  # 256 bits from the operating system's CSPRNG
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_SEATS = 10_000
MAX_NOTE_LENGTH = 500
REMIND_AFTER = timedelta(days=3)


class OrderState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


def new_token() -> tuple[str, str]:
    """Returns a fresh link token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """Hashes a link token for storage and lookup (sha256, hex)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str) -> bool:
    """Tells whether a string could be a token this bot issued (saves a query on junk)."""
    return bool(TOKEN_SHAPE.fullmatch(token))


def token_matches(token: str, stored_hash: str) -> bool:
    """Compares a presented token with a stored hash in constant time."""
    return hmac.compare_digest(token_hash(token), stored_hash)


def csrf_token(secret_key: str, *, order_id: int, stored_hash: str) -> str:
    """Signs a form for one order and one link: another order's form, or a form from before a
    resend, does not carry a valid token."""
    message = f"order-form:{order_id}:{stored_hash}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, presented: str, *, order_id: int, stored_hash: str) -> bool:
    """Checks a form's CSRF token in constant time."""
    expected = csrf_token(secret_key, order_id=order_id, stored_hash=stored_hash)
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))


def expiry(filed_at: datetime, ttl_days: int) -> datetime:
    """Returns when a link filed at `filed_at` stops working."""
    return filed_at + timedelta(days=ttl_days)


def effective_state(state: str, expires_at: datetime, now: datetime) -> OrderState:
    """The state a reader should see: a pending order past its expiry is expired, even before
    the scheduler's sweep has written so."""
    current = OrderState(state)
    if current is OrderState.PENDING and now >= expires_at:
        return OrderState.EXPIRED
    return current


def reminder_due(
    state: str,
    issued_at: datetime,
    reminded_at: datetime | None,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Tells whether the filer should be reminded of an order whose link (the first, or the one
    /order resend issued) has been out for 3 days without an answer."""
    return (
        effective_state(state, expires_at, now) is OrderState.PENDING
        and reminded_at is None
        and now - issued_at >= REMIND_AFTER
    )


def reminders_due_if_expiring_by(now: datetime, ttl_days: int) -> datetime:
    """The sweep's form of reminder_due: a link expiring by this time was issued (expiry less
    the TTL) at least 3 days ago."""
    return now - REMIND_AFTER + timedelta(days=ttl_days)


# What a customer's answer does to an order in each state.
class Answer(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"


@dataclass(frozen=True)
class Transition:
    """The outcome of an answer: the new state, or why nothing changes."""

    changes: bool
    state: OrderState


def answer_order(state: str, expires_at: datetime, now: datetime, answer: Answer) -> Transition:
    """Decides what a customer's answer does: only a pending, unexpired order changes; any other
    state stays as it is (so a second click or a retry is harmless)."""
    current = effective_state(state, expires_at, now)
    if current is not OrderState.PENDING:
        return Transition(False, current)
    target = OrderState.CONFIRMED if answer is Answer.CONFIRM else OrderState.DECLINED
    return Transition(True, target)


def staff_can_change(state: str, expires_at: datetime, now: datetime) -> bool:
    """Tells whether staff may still cancel an order or send a new link for it."""
    return effective_state(state, expires_at, now) is OrderState.PENDING


# The /order command's arguments.


@dataclass(frozen=True)
class OrderRequest:
    customer_query: str
    plan_code: str
    seats: int


@dataclass(frozen=True)
class OrderSubcommand:
    name: str  # list | cancel | resend | help
    order_id: int | None = None


@dataclass(frozen=True)
class OpenModal:
    """No arguments: the order form."""


@dataclass(frozen=True)
class BadArguments:
    problem: str  # says what is wrong and what to type instead


Parsed = OrderRequest | OrderSubcommand | OpenModal | BadArguments

USAGE = (
    "Type `/order &lt;customer&gt; &lt;plan code&gt; &lt;seats&gt;`, "
    "e.g. `/order sons plumbing OLM 10`, or just `/order` for a form."
)


def parse_seats(text: str) -> int | str:
    """Reads a seat count; returns the problem as text when it is not a sane whole number."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        return f"Seats must be a whole number, such as 25; `{escape(text)}` is not."
    seats = int(cleaned)
    if seats < 1:
        return f"Seats must be at least 1; `{escape(text)}` is not."
    if seats > MAX_SEATS:
        return (
            f"An order can have at most {MAX_SEATS:,} seats; `{escape(text)}` is more. "
            "For larger deals, split the order or talk to your distributor."
        )
    return seats


def parse_order_command(text: str, catalogue: Catalogue) -> Parsed:
    """Reads `/order …`: the customer from the left, the plan code and the seats from the right,
    so a customer's name may contain spaces."""
    words = clean_query(text).split(" ") if clean_query(text) else []
    if not words:
        return OpenModal()
    if looks_like_an_order(words, catalogue):
        return order_request(words, catalogue)
    first = words[0].lower()
    if first in ("list", "help"):
        if len(words) == 1:
            return OrderSubcommand(first)
        return BadArguments(
            f"`/order {first}` takes nothing after it; type just `/order {first}`. "
            f"To file an order, {USAGE[0].lower()}{USAGE[1:]}"
        )
    if first in ("cancel", "resend"):
        return staff_subcommand(first, words[1:])
    return order_request(words, catalogue)


def looks_like_an_order(words: list[str], catalogue: Catalogue) -> bool:
    """Tells whether the words end in a plan code and a number, as an order does (so that a
    customer called "List Dental" can still be ordered for)."""
    return (
        len(words) >= 3
        and catalogue.get(words[-2]) is not None
        and bool(re.fullmatch(r"[+-]?[\d,_]+", words[-1]))
    )


def staff_subcommand(name: str, arguments: list[str]) -> Parsed:
    """Reads `/order cancel <id>` and `/order resend <id>`."""
    if not arguments:
        return BadArguments(
            f"Which order? Type `/order {name} &lt;order id&gt;`, e.g. "
            f"`/order {name} 42`; `/order list` shows the ids."
        )
    if len(arguments) > 1:
        return BadArguments(
            f"`/order {name}` takes one order id, e.g. `/order {name} 42`; "
            "`/order list` shows the ids."
        )
    number = arguments[0].lstrip("#")
    if not whole_number(number, digits=12):
        return BadArguments(
            f"`{escape(arguments[0])}` is not an order id; ids are numbers such as 42 "
            "(see `/order list`)."
        )
    return OrderSubcommand(name, int(number))


def order_example(customer: str, code: str, seats: str = "10") -> str:
    """An order as it should be typed, for the customer and plan typed (escaped)."""
    return f"`/order {escape(customer)} {escape(code)} {escape(seats)}`"


def order_request(words: list[str], catalogue: Catalogue) -> Parsed:
    """Reads `<customer> <plan code> <seats>`, or says precisely what is missing or wrong."""
    codes = ", ".join(f"`{code}`" for code in catalogue.codes())
    first_code = catalogue.codes()[0]
    last = words[-1]
    if catalogue.get(last) is not None and len(words) >= 2:
        customer, plan = " ".join(words[:-1]), catalogue.get(last)
        return BadArguments(
            f"Missing the seats: how many seats of {escape(plan.code)} should "
            f"{escape(customer)} have in total? E.g. {order_example(customer, plan.code)}."
        )
    number = re.fullmatch(r"[+-]?[\d,_.]+", last)
    if len(words) < 3 and not number:
        customer = " ".join(words)
        return BadArguments(
            f"Missing the plan code and the seats: `/order {escape(customer)}` names only the "
            f"customer. Add the plan code and the seats it should have in total, e.g. "
            f"{order_example(customer, first_code)}. Plan codes: {codes}."
        )
    if len(words) == 1:
        return BadArguments(f"Missing the customer and the plan code. {USAGE} Plan codes: {codes}.")
    if len(words) == 2:
        customer = words[0]
        return BadArguments(
            f"Missing the plan code: which plan should {escape(customer)} have {escape(last)} "
            f"seats of? E.g. {order_example(customer, first_code, last)}. Plan codes: {codes}."
        )
    *customer_words, code, seats_text = words
    customer = " ".join(customer_words)
    plan = catalogue.get(code)
    if plan is None:
        return BadArguments(
            f"`{escape(code)}` is not a plan code. Valid codes: {codes}. "
            f"E.g. {order_example(customer, first_code, seats_text)}."
        )
    seats = parse_seats(seats_text)
    if isinstance(seats, str):
        return BadArguments(seats + " " + USAGE)
    return OrderRequest(customer, plan.code, seats)


# What an order says, for Slack and for the customer's page alike.


@dataclass(frozen=True)
class OrderDescription:
    number: int
    customer_name: str
    customer_domain: str
    contact_name: str  # the customer's contact, "" when not known
    partner_name: str
    plan_code: str
    plan_name: str
    services: tuple[str, ...]
    seats: int
    previous_seats: int | None  # set when the order changes an existing subscription's seats
    unit_price: str  # money, formatted
    monthly: str
    annual: str
    billing_owner: str  # who bills the customer: the vendor's name or the partner's
    expires: str  # date and time in the reader's time zone
    expires_for_customer: str  # the same in the customer's time zone (its partner's if unknown)
    note: str

    @property
    def change_words(self) -> str:
        """Says what the order does to the customer's subscriptions, for the partner's staff."""
        return change_words(self.plan_code, self.seats, self.previous_seats)

    @property
    def customer_words(self) -> str:
        """Says what the order does, as the customer reads it: the plan's name, the seats."""
        if self.previous_seats is None:
            return f"a new {self.plan_name} subscription of {plural(self.seats, 'seat')}"
        return (
            f"your {self.plan_name} subscription from {self.previous_seats:,} to "
            f"{plural(self.seats, 'seat')}"
        )

    @property
    def services_beyond_name(self) -> tuple[str, ...]:
        """The plan's services, unless the only one is what the plan's name says already."""
        return () if self.services == (self.plan_name,) else self.services


def change_words(plan_code: str, seats: int, previous_seats: int | None) -> str:
    """Says what an order does to the customer's subscriptions, in the partner's words."""
    if previous_seats is None:
        return f"a new {plan_code} subscription of {seats:,} seats"
    direction = "adds" if seats > previous_seats else "removes"
    difference = abs(seats - previous_seats)
    return (
        f"changes the existing {plan_code} subscription from {previous_seats:,} "
        f"to {seats:,} seats ({direction} {difference:,})"
    )


def customer_time_zone(customer, partner) -> str:
    """The zone a customer reads times in: its own, else its partner's."""
    return customer.timezone or partner.timezone


def describe(
    order, *, customer, partner, catalogue: Catalogue, time_zone: str, vendor: str
) -> OrderDescription:
    """Puts an order into words and figures for a reader in `time_zone` (nothing escaped: each
    reader escapes its own way); `vendor` names who bills the orders the vendor bills."""
    plan = catalogue.get(order.plan_code)
    owner = vendor if order.billing_owner == "vendor" else partner.name
    return OrderDescription(
        number=order.id,
        customer_name=customer.name,
        customer_domain=customer.domain,
        contact_name=" ".join(customer.contact_name.split()),
        partner_name=partner.name,
        plan_code=order.plan_code,
        plan_name=plan.name if plan else order.plan_code,
        services=plan.services if plan else (),
        seats=order.seats,
        previous_seats=order.previous_seats,
        unit_price=format_money(order.unit_price),
        monthly=format_money(monthly_value(order.seats, order.unit_price)),
        annual=format_money(annual_value(order.seats, order.unit_price)),
        billing_owner=owner,
        expires=when_in(order.expires_at, time_zone),
        expires_for_customer=when_in(order.expires_at, customer_time_zone(customer, partner)),
        note=order.note,
    )


def link_for(base_url: str, token: str) -> str:
    """The confirmation link the partner sends to the customer."""
    return f"{base_url}/orders/{token}"
