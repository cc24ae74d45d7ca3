"""/subscription's words for one subscription (its figures, dates, renewal and commission) and
for the totals of a customer's subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.blocks import escape, plural
from bot.catalogue import Catalogue
from bot.money import annual_value, format_money, format_percent, monthly_value
from bot.subscriptions.rules import (
    ACTIVE,
    CANCELLED,
    EVERYTHING,
    SUSPENDED,
    TRIAL,
    Commission,
    CommissionRule,
    MoneyShown,
    commission_for,
)
from bot.subscriptions.seat_history import SeatPeriod
from bot.zones import days_until

BILLED = {"monthly": "monthly", "annual": "annually"}


@dataclass(frozen=True)
class SubscriptionView:
    plan_code: str
    seats: int
    unit_price: Decimal
    billing_cycle: str
    start_date: date
    renewal_date: date
    status: str
    billing_owner: str
    partner_of_record: str | None  # the partner's name; None when no partner is of record
    of_record_is_caller: bool
    periods: tuple[SeatPeriod, ...] = ()  # seats and price over time (none: today's since start)
    offer_name: str = ""  # Partner Center's name of the offer ("" for imported rows)


def renewal_words(renewal: date, today: date, status: str) -> str:
    """Says when a subscription renews, relative to today."""
    if status == CANCELLED:
        return f"was due to renew {renewal.isoformat()} (cancelled)"
    days = days_until(renewal, today)
    if days == 0:
        when = "today"
    elif days == 1:
        when = "tomorrow"
    elif days > 1:
        when = f"in {days:,} days"
    else:
        when = f"{-days:,} {'day' if days == -1 else 'days'} overdue"
    return f"renews {renewal.isoformat()} ({when})"


def commission_words(view: SubscriptionView, commission: Commission, rule: CommissionRule) -> str:
    """Says what the subscription earns the partner, with the rule that applies today."""
    if not view.of_record_is_caller:
        return "Commission: none — your company is not the partner of record"
    to_date = f"earned to date {format_money(commission.earned_to_date)}"
    if view.status == TRIAL:
        first_year = format_money(commission.base)
        return (
            f"Commission: none during the trial; once paid, "
            f"{format_percent(rule.first_year_rate)} of the first year's value {first_year}"
        )
    if view.status == CANCELLED:
        return f"Commission: no more (cancelled) · {to_date}"
    if view.status == SUSPENDED:
        return f"Commission: paused while suspended · {to_date}"
    if commission.in_first_year:
        rule_words = (
            f"{format_percent(commission.rate)} of the first year's value "
            f"{format_money(commission.base)} = *{format_money(commission.amount)}* "
            f"(first year ends {commission.first_year_ends.isoformat()})"
        )
    else:
        rule_words = (
            f"{format_percent(commission.rate)} of the annual fee {format_money(commission.base)} "
            f"= *{format_money(commission.amount)}* a year "
            f"(first year ended {commission.first_year_ends.isoformat()})"
        )
    next_year = format_money(commission.expected_next_12_months)
    return f"Commission: {rule_words} · {to_date} · next 12 months {next_year}"


def subscription_text(
    view: SubscriptionView,
    *,
    catalogue: Catalogue,
    rule: CommissionRule,
    today: date,
    shown: MoneyShown = EVERYTHING,
) -> str:
    """Describes one subscription in a few lines of mrkdwn: everything a partner asks about it."""
    monthly = format_money(monthly_value(view.seats, view.unit_price))
    annual = format_money(annual_value(view.seats, view.unit_price))
    of_record = escape(view.partner_of_record) if view.partner_of_record else "none"
    billed = f"billed {BILLED[view.billing_cycle]} by the {view.billing_owner}"
    seats = (
        f"{plural(view.seats, 'seat')} × {format_money(view.unit_price)} per seat = "
        f"*{monthly} a month* · {annual} a year · {billed}"
        if shown.prices
        else f"{plural(view.seats, 'seat')} · {billed}"
    )
    lines = [
        f"*{escape(view.plan_code)}* — {escape(plan_name(view, catalogue))} · _{view.status}_",
        seats,
        f"Started {view.start_date.isoformat()} · "
        f"{renewal_words(view.renewal_date, today, view.status)}",
        f"Partner of record: {of_record}",
    ]
    if shown.commission:
        lines.append(commission_words(view, commission_of(view, rule=rule, today=today), rule))
    return "\n".join(lines)


def commission_of(view: SubscriptionView, *, rule: CommissionRule, today: date) -> Commission:
    """The subscription's commission today, each month valued as it was."""
    return commission_for(
        seats=view.seats,
        unit_price=view.unit_price,
        start_date=view.start_date,
        status=view.status,
        on=today,
        rule=rule,
        renewal_date=view.renewal_date,
        periods=view.periods,
    )


def plan_name(view: SubscriptionView, catalogue: Catalogue) -> str:
    """The plan's catalogue name; an offer no plan matches by Partner Center's name for it."""
    plan = catalogue.get(view.plan_code)
    return plan.name if plan else (view.offer_name or view.plan_code)


def totals_text(
    subscriptions: list[SubscriptionView],
    *,
    rule: CommissionRule,
    today: date,
    shown: MoneyShown = EVERYTHING,
) -> str:
    """Sums up the live (active) subscriptions and the commission of all of them."""
    active = [s for s in subscriptions if s.status == ACTIVE]
    seats = sum(s.seats for s in active)
    monthly = sum((monthly_value(s.seats, s.unit_price) for s in active), Decimal(0))
    text = (
        f"*{plural(len(subscriptions), 'subscription')}* ({len(active):,} active) · "
        f"{plural(seats, 'active seat')}"
    )
    if shown.prices:
        text += f" · *{format_money(monthly)} a month* · {format_money(monthly * 12)} a year"
    if not shown.commission:
        return text
    earned = expected = Decimal(0)
    for s in subscriptions:
        if s.of_record_is_caller:
            commission = commission_of(s, rule=rule, today=today)
            earned += commission.earned_to_date
            expected += commission.expected_next_12_months
    return (
        f"{text}\nYour commission: earned to date {format_money(earned)} · "
        f"expected in the next 12 months {format_money(expected)}"
    )
