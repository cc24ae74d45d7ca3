"""The words of an outage alert once a connected partner's customers' own service health has
been asked (bot/outages/confirming.py): how many confirmed, not listed, unknown, still asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.blocks import escape, plural
from bot.money import format_money

if TYPE_CHECKING:
    from bot.outages.messages import ImpactView, IncidentView


@dataclass(frozen=True)
class TenantChecksView:
    """What the customers' own service health said of the incident, for a connected partner."""

    candidates: int  # customers with the service
    confirmed: int
    not_listed: int
    refused: int  # unknown: the tenant refused the partner's app (no consent, 401/403)
    unknown: int  # unknown otherwise: throttled, Graph down, no tenant id

    @property
    def pending(self) -> int:
        return max(
            self.candidates - self.confirmed - self.not_listed - self.refused - self.unknown, 0
        )


def checked_text(impact: ImpactView, incident: IncidentView) -> str:
    """The impact once customers' own service health has been asked: the confirmed ones with
    their figures, then those it does not list and those nobody could ask."""
    checks = impact.checks
    lines = [
        f"*Confirmed in their own service health:* {plural(impact.customers, 'customer')} · "
        f"{plural(impact.seats, 'seat')} · {format_money(impact.monthly)} monthly revenue at risk"
    ]
    if impact.top:
        names = ", ".join(f"{escape(name)} ({seats:,} seats)" for name, seats in impact.top)
        more = impact.customers - len(impact.top)
        lines.append(f"*Largest:* {names}" + (f" … and {more:,} more" if more > 0 else ""))
    lines.append(
        f"*Not listed* in their service health (not affected, says Microsoft): "
        f"{plural(checks.not_listed, 'customer')}"
    )
    unknown = checks.refused + checks.unknown
    if unknown:
        why = []
        if checks.refused:
            why.append(f"{checks.refused:,} refused your app: see your managers' channel")
        if checks.unknown:
            why.append(f"{checks.unknown:,} could not be asked")
        lines.append(
            f"*Unknown*, may be affected: {plural(unknown, 'customer')} ({'; '.join(why)})"
        )
    if checks.pending and not incident.resolved:
        lines.append(
            f"_Asking each customer's service health: {checks.pending:,} of "
            f"{checks.candidates:,} still to answer; this message is updated as they do._"
        )
    return "\n".join(lines)
