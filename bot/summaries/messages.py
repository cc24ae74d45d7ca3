"""Block Kit for weekly summaries: the summary, the schedule answers, the refusal for
non-managers, and the App Home tab."""

from __future__ import annotations

from bot.blocks import Message, context, divider, escape, header, messages, section
from bot.money import format_money
from bot.partners.help import COMMANDS
from bot.summaries.rules import Summary, change_words


def percent(value) -> str:
    return "—" if value is None else f"{value}%"


def summary_blocks(summary: Summary, *, scheduled: bool) -> list[dict]:
    """Every figure of a week, each headline compared with the week before."""
    title = f"Week of {summary.week.words()} — {summary.partner.name}"
    blocks = [header(title)]
    if summary.quiet:
        blocks.append(
            section(
                "*A quiet week:* no orders, no seat changes and no outages hit "
                "your customers. The standing figures are below."
            )
        )
    blocks += [
        orders_section(summary),
        money_section(summary),
        outages_section(summary),
        renewals_section(summary),
        at_risk_section(summary),
    ]
    note = "Posted on schedule; the chart follows in the thread. " if scheduled else ""
    blocks.append(
        context(
            f"{note}Weeks run Monday to Sunday in {escape(summary.partner.timezone)}. Commission "
            "accrues by the day at 12% of the first year's value, 6% after it."
        )
    )
    return blocks


def orders_section(summary: Summary) -> dict:
    now, before = summary.current, summary.previous
    o, p = now.orders, before.orders
    median = "—" if now.median_hours is None else f"{now.median_hours} h"
    return section(
        f"*Orders:* {o.filed:,} filed ({change_words(o.filed, p.filed)}) · "
        f"{o.confirmed:,} confirmed ({change_words(o.confirmed, p.confirmed)}) · "
        f"{o.declined:,} declined · {o.expired:,} expired · {o.cancelled:,} cancelled · "
        f"{o.pending_at_end:,} still pending\n"
        f"Conversion {percent(now.conversion)} of the orders decided (last week "
        f"{percent(before.conversion)}) · median time to confirm {median}"
    )


def money_section(summary: Summary) -> dict:
    """Seats, monthly recurring revenue and commission."""
    now, before = summary.current, summary.previous
    o, p = now.orders, before.orders
    net, net_before = o.seats_added - o.seats_removed, p.seats_added - p.seats_removed
    earned, earned_before = (
        now.commission.earned_this_week,
        before.commission.earned_this_week,
    )
    return section(
        f"*Seats:* +{o.seats_added:,} added, −{o.seats_removed:,} removed through confirmed "
        f"orders ({change_words(net, net_before)} net)\n"
        f"*Monthly recurring revenue:* {format_money(now.mrr)} at the end of the week "
        f"({change_words(now.mrr, summary.mrr_before, money=True)})\n"
        f"*Commission:* {format_money(now.commission.earned_this_week)} earned this week "
        f"({change_words(earned, earned_before, money=True)}) · "
        f"{format_money(now.commission.expected_next_12_months)} expected over the next "
        "12 months"
    )


def outages_section(summary: Summary) -> dict:
    now, before = summary.current, summary.previous
    return section(
        f"*Outages that hit your customers:* {now.incidents:,} "
        f"({change_words(now.incidents, before.incidents)}) · "
        f"{now.customer_minutes:,} customer-minutes · SLA credits owed "
        f"{format_money(now.credits_owed)}"
    )


def renewals_section(summary: Summary) -> dict:
    if not summary.renewals:
        return section("*Renewals in the next 30 days:* none.")
    lines = [
        f"• {escape(r.customer)} — {escape(r.plan_code)} × {r.seats:,} seats, "
        f"{format_money(r.annual)} a year"
        for r in summary.renewals
    ]
    more = summary.renewals_total - len(summary.renewals)
    if more > 0:
        lines.append(f"… and {more:,} more")
    return section(
        f"*Renewals in the next 30 days* "
        f"({summary.renewals_total:,}, largest first):\n" + "\n".join(lines)
    )


def at_risk_section(summary: Summary) -> dict:
    if not summary.at_risk:
        return section("*At risk:* nobody this week.")
    lines = [f"• {escape(name)} — {why}" for name, why in summary.at_risk[:15]]
    if len(summary.at_risk) > 15:
        lines.append(f"… and {len(summary.at_risk) - 15:,} more")
    return section("*At risk:*\n" + "\n".join(lines))


def summary_message(summary: Summary, *, scheduled: bool) -> Message:
    title = f"Weekly summary, week of {summary.week.words()}"
    return messages(title, summary_blocks(summary, scheduled=scheduled))[0]


def chart_note() -> Message:
    return Message("Chart of the last 8 weeks", [])


def answer(text: str) -> list[Message]:
    return messages(text, [section(text)])


def not_a_manager(managers: list[str]) -> list[Message]:
    who = ", ".join(f"<@{m}>" for m in managers) if managers else "nobody yet"
    return answer(
        "Sorry — weekly summaries are for your company's partnerbot managers. "
        f"Managers ({who}) or a workspace admin can add you with `/partnerbot managers add @you`."
    )


def home_view(*, is_manager: bool, summary: Summary | None) -> dict:
    """The App Home tab: this week's summary for managers, the commands for everyone."""
    blocks: list[dict] = []
    if is_manager and summary is not None:
        blocks += summary_blocks(summary, scheduled=False)[:40]
        blocks.append(divider())
    blocks.append(header("What you can ask partnerbot"))
    for command in COMMANDS:
        if is_manager or not command.usage.startswith(("/summary", "/partnerbot managers")):
            blocks.append(section(f"*`{escape(command.usage)}`*\n{command.does}"))
    return {"type": "home", "blocks": blocks[:100]}


def usage_text() -> str:
    return (
        "`/summary` or `/summary this-week` · `/summary last-week` · "
        "`/summary schedule monday 09:00` · `/summary schedule off`"
    )
