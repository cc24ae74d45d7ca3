"""The resolution of an outage in its thread: how long it lasted, who is owed a credit (or, when
the vendor did not say where it hit, who can claim one if it was affected), how much in total,
the rest counted, and every customer's figures in a file instead of a line each."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from bot.blocks import Message, context, escape, messages, plural, section
from bot.money import format_money
from bot.outages.messages import IncidentView, apology_message

# Customers with a credit named in the thread; the rest of them, and everyone within the SLA,
# are counted there and listed in the file.
SHOWN_CREDITS = 15
SLA_TERMS = "99.9% a month: below it 25%, below 99% 50%, below 95% 100% of the service's fee"


@dataclass(frozen=True)
class CreditLine:
    customer: str
    availability: str
    credit: str  # "" when the SLA held
    rate: str
    amount: Decimal = Decimal(0)
    domain: str = ""


def credits_text(incident: IncidentView, credits: list[CreditLine], known: bool) -> str:
    """Who is owed (or may claim) a credit, how much in total, and how many are not."""
    owed = [line for line in credits if line.credit]
    within = len(credits) - len(owed)
    total = format_money(sum((line.amount for line in owed), Decimal(0)))
    if known:
        head = (
            f"*{plural(len(owed), 'customer')} owed a credit, {total} in total*"
            if owed
            else "*No credit owed*"
        )
        rest = f"{plural(within, 'customer')} within the SLA, no credit"
    else:
        head = (
            "The vendor did not say where this hit, so nobody is known to be owed anything. "
            f"*If they were affected, {plural(len(owed), 'customer')} can claim a credit, "
            f"{total} in total*"
            if owed
            else "*Nobody could claim a credit*, even if affected"
        )
        rest = f"{plural(within, 'customer')} within the SLA even if affected"
    return f"*SLA* ({SLA_TERMS}): {head}; {rest}."


def credit_lines(credits: list[CreditLine], known: bool) -> list[str]:
    """The largest credits, one line each."""
    owed = sorted(
        (line for line in credits if line.credit), key=lambda line: (-line.amount, line.customer)
    )
    verb = "credit" if known else "can claim"
    lines = [
        f"• {escape(line.customer)}: *{verb} {line.credit}* ({line.rate} of the service's "
        f"monthly fee; availability {line.availability})"
        for line in owed[:SHOWN_CREDITS]
    ]
    if len(owed) > SHOWN_CREDITS:
        lines.append(f"… and {len(owed) - SHOWN_CREDITS:,} more in the file.")
    return lines


def closing_message(
    incident: IncidentView, credits: list[CreditLine], apology: str, *, known: bool = True
) -> list[Message]:
    """The resolution reply: duration, the credits that matter and their total, and a closing
    text; every customer's line goes in the file (`credits_file`)."""
    head = (
        f"✅ *Resolved* after {incident.duration} (from {incident.started} to "
        f"{incident.ended}).\n{credits_text(incident, credits, known)}"
    )
    blocks = [section(head)]
    lines = credit_lines(credits, known)
    if lines:
        blocks.append(section("\n".join(lines)))
    if credits:
        blocks.append(
            context(f"Every customer's availability and credit: the file below ({len(credits):,}).")
        )
    result = messages(f"Resolved: {escape(incident.title)}", blocks)
    return result + apology_message(apology, closing=True, known=known)


def cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a name starting with =, +, - or @ is not run as
    a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def credits_file(credits: list[CreditLine], known: bool) -> bytes:
    """Every affected (or possibly affected) customer's availability and credit, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    claim = "credit owed" if known else "credit if affected"
    writer.writerow(["customer", "domain", "availability this month", "credit rate", claim])
    for line in sorted(credits, key=lambda line: (-line.amount, line.customer)):
        writer.writerow(
            [
                cell(line.customer),
                cell(line.domain),
                line.availability,
                line.rate if line.credit else "0%",
                line.credit or format_money(Decimal(0)),
            ]
        )
    return out.getvalue().encode("utf-8")


def no_impact_message(incident: IncidentView) -> Message:
    """The reply that closes a false positive: nobody was hit, nothing is owed."""
    text = (
        "✅ *Closed: no impact.* The vendor found this was a false positive: no customer was "
        "affected, no credit is owed and no closing note is needed."
    )
    return Message(f"Closed, no impact: {escape(incident.title)}", [section(text)])
