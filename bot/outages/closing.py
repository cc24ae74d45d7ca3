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
    owed: bool | None = None  # False: a credit to claim if affected; None: as the list says
    health: str = ""  # what its own service health said (confirmed, unknown), when asked


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


def checked_credits_text(credits: list[CreditLine], not_listed: int) -> str:
    """The credits once customers' own service health was asked: owed to the confirmed ones,
    to be claimed by the unknown ones if they were affected, none for those it did not list."""
    confirmed = [line for line in credits if line.owed]
    others = [line for line in credits if not line.owed]
    owed = [line for line in confirmed if line.credit]
    total = format_money(sum((line.amount for line in owed), Decimal(0)))
    head = (
        f"*{plural(len(owed), 'confirmed customer')} owed a credit, {total} in total*"
        if owed
        else "*No credit owed* to a confirmed customer"
    )
    claim = [line for line in others if line.credit]
    claimed = format_money(sum((line.amount for line in claim), Decimal(0)))
    rest = (
        f"{plural(len(confirmed) - len(owed), 'confirmed customer')} within the SLA; "
        f"of the {plural(len(others), 'customer')} whose service health could not be read, "
        f"{len(claim):,} can claim a credit if they were affected ({claimed}); "
        f"{plural(not_listed, 'customer')} not listed in their service health, no credit"
    )
    return f"*SLA* ({SLA_TERMS}): {head}; {rest}."


def owed_line(line: CreditLine, known: bool) -> bool:
    return known if line.owed is None else line.owed


def credit_lines(credits: list[CreditLine], known: bool) -> list[str]:
    """The largest credits, one line each."""
    owed = sorted(
        (line for line in credits if line.credit), key=lambda line: (-line.amount, line.customer)
    )
    lines = [
        f"• {escape(line.customer)}: *{'credit' if owed_line(line, known) else 'can claim'} "
        f"{line.credit}* ({line.rate} of the service's "
        f"monthly fee; availability {line.availability})"
        for line in owed[:SHOWN_CREDITS]
    ]
    if len(owed) > SHOWN_CREDITS:
        lines.append(f"… and {len(owed) - SHOWN_CREDITS:,} more in the file.")
    return lines


def closing_message(
    incident: IncidentView,
    credits: list[CreditLine],
    apology: str,
    *,
    known: bool = True,
    answers: dict[int, tuple[str, str]] | None = None,
) -> list[Message]:
    """The resolution reply: duration, the credits that matter and their total, and a closing
    text; every customer's line goes in the file (`credits_file`). With `answers` (customers'
    own service health), owed credits are the confirmed customers'."""
    if answers is not None:
        not_listed = sum(found == "not_listed" for found, _ in answers.values())
        figures = checked_credits_text(credits, not_listed)
    else:
        figures = credits_text(incident, credits, known)
    head = (
        f"✅ *Resolved* after {incident.duration} (from {incident.started} to "
        f"{incident.ended}).\n{figures}"
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


def credits_file(credits: list[CreditLine], known: bool, *, checked: bool = False) -> bytes:
    """Every affected (or possibly affected) customer's availability and credit, as CSV; when
    customers' service health was asked, what it said and whether the credit is owed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    claim = "credit owed" if known else "credit if affected"
    head = ["customer", "domain", "availability this month", "credit rate", claim]
    if checked:
        head[-1:] = ["service health", "credit", "owed or if affected"]
    writer.writerow(head)
    for line in sorted(credits, key=lambda line: (-line.amount, line.customer)):
        row = [
            cell(line.customer),
            cell(line.domain),
            line.availability,
            line.rate if line.credit else "0%",
            line.credit or format_money(Decimal(0)),
        ]
        if checked:
            owed = "owed" if owed_line(line, known) else "if affected"
            row[-1:] = [line.health, row[-1], owed]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def no_impact_message(incident: IncidentView) -> Message:
    """The reply that closes a false positive: nobody was hit, nothing is owed."""
    text = (
        "✅ *Closed: no impact.* The vendor found this was a false positive: no customer was "
        "affected, no credit is owed and no closing note is needed."
    )
    return Message(f"Closed, no impact: {escape(incident.title)}", [section(text)])
