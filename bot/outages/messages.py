"""Block Kit for outage alerts: the root message per partner, thread replies, the closing
message with credits, follower DMs, and the /outage answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.blocks import (
    MAX_SECTION_TEXT,
    Message,
    context,
    escape,
    header,
    messages,
    pack,
    plain,
    plural,
    section,
    sections,
    shorten,
)
from bot.money import format_money
from bot.outages.intake import no_impact, status_words
from bot.outages.rules import duration_words
from bot.outages.scope import Scope, scope_of, scope_words
from bot.outages.tenant_words import TenantChecksView, checked_text
from bot.zones import when_in
from storage.models import Incident

TOP_CUSTOMERS = 5
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,30}")
# An update longer than this many messages (some 120,000 characters, more than the intake keeps
# of an update's title, impact and one post) is cut: a partner's thread is not to be flooded by
# a broken feed.
MAX_REPLY_MESSAGES = 10


class OutageAction(StrEnum):
    """Action and callback ids of the outage messages, shared by builders and registration."""

    APOLOGY_ONE = "outage_apology_one"
    APOLOGY_ALL = "outage_apology_all"
    FOLLOW = "outage_follow"
    UNFOLLOW = "outage_unfollow"
    APOLOGY_FORM = "outage_apology_form"
    APOLOGY_CUSTOMER = "outage_apology_customer"
    TEMPLATE_FORM = "outage_template_form"
    TEMPLATE_TEXT = "outage_template_text"


@dataclass(frozen=True)
class IncidentView:
    """An incident in words, for one reader's time zone (nothing escaped yet)."""

    number: int
    external_id: str
    title: str
    service: str
    feature: str
    status: str  # in plain words
    advisory: bool
    regions: str  # "all regions" or a list
    started: str
    ended: str  # "" while open
    duration: str  # "" while open
    impact: str
    latest: str
    resolved: bool
    declared_by_partner: bool
    no_impact: bool = False  # closed as a false positive
    # False while the vendor has not said where it hit and the reader's team has not narrowed
    # it: customers *may* be affected, credits are what they can claim if they were.
    scope_known: bool = True
    declared_by: str = ""  # the Slack user who declared a partner's own outage


def incident_view(
    incident: Incident, time_zone: str, now: datetime, scope: Scope | None = None
) -> IncidentView:
    """An incident in words for a reader in a time zone (and its scope for the reader's
    partner; without one, what the incident alone says)."""
    scope = scope or scope_of(incident)
    end = incident.end_at or (now if incident.is_resolved else None)
    return IncidentView(
        number=incident.id,
        external_id=incident.external_id,
        title=incident.title,
        service=incident.service,
        feature=incident.feature,
        status=status_words(incident.status),
        # An unknown (newer) classification gets the lighter advisory treatment: a notice, no
        # apology, no credits.
        advisory=incident.classification != "incident",
        regions=scope_words(scope),
        started=when_in(incident.start_at, time_zone),
        ended=when_in(end, time_zone) if incident.is_resolved and end else "",
        duration=duration_words(incident.start_at, end) if incident.is_resolved and end else "",
        impact=incident.impact_description,
        latest=incident.latest_post,
        resolved=incident.is_resolved,
        declared_by_partner=incident.partner_id is not None,
        no_impact=no_impact(incident.status),
        scope_known=scope.known,
        declared_by=incident.declared_by if SLACK_USER.fullmatch(incident.declared_by) else "",
    )


@dataclass(frozen=True)
class ImpactView:
    customers: int
    seats: int
    monthly: Decimal
    top: list[tuple[str, int]]  # (customer name, seats), most seats first
    # For a connected partner: the figures above are of the confirmed customers only.
    checks: TenantChecksView | None = None


def status_line(incident: IncidentView) -> str:
    if incident.no_impact:
        return "✅ *Closed: no impact* (a false positive, says the vendor)"
    if incident.resolved:
        return f"✅ *Resolved* after {incident.duration}"
    return f"🔴 *{escape(incident.status[:1].upper() + incident.status[1:])}*"


def impact_text(impact: ImpactView, incident: IncidentView) -> str:
    if impact.checks is not None and impact.checks.pending < impact.checks.candidates:
        return checked_text(impact, incident)
    who = "affected" if incident.scope_known else "who may be affected"
    lines = [
        f"*Your customers {who}:* {plural(impact.customers, 'customer')} · "
        f"{plural(impact.seats, 'seat')} · {format_money(impact.monthly)} monthly revenue at risk"
    ]
    if not incident.scope_known:
        lines.append(
            "_The vendor did not say where this hits: every customer with the service may be "
            "affected, or none. If you know where, narrow it for your team: "
            f"`/outage narrow {escape(incident.external_id)} &lt;regions&gt;`._"
        )
    if impact.checks is not None and impact.checks.candidates:
        lines.append(
            "_Asking each customer's own service health whether it lists this issue; this "
            "message is updated as they answer._"
        )
    if impact.top:
        names = ", ".join(f"{escape(name)} ({seats:,} seats)" for name, seats in impact.top)
        more = impact.customers - len(impact.top)
        lines.append(f"*Largest:* {names}" + (f" … and {more:,} more" if more > 0 else ""))
    return "\n".join(lines)


def root_blocks(incident: IncidentView, impact: ImpactView) -> list[dict]:
    """The one message per partner and incident; edited in place as the status changes."""
    kind = "Advisory" if incident.advisory else "Outage"
    source = "declared by your team" if incident.declared_by_partner else "reported by the vendor"
    if incident.declared_by:
        source = f"declared by <@{incident.declared_by}>"
    details = [
        status_line(incident),
        f"*Service:* {escape(incident.service)}"
        + (f" — {escape(incident.feature)}" if incident.feature else "")
        + f" · *Regions:* {escape(incident.regions)}",
        f"*Started:* {incident.started}"
        + (f" · *Ended:* {incident.ended}" if incident.ended else ""),
    ]
    blocks = [
        header(f"{kind} #{incident.number}: {incident.title}"),
        section("\n".join(details)),
    ]
    if incident.impact and not incident.advisory:
        blocks.append(section(shorten("*Impact:* " + escape(incident.impact), 3000)))
    blocks.append(section(impact_text(impact, incident)))
    elements = []
    if not incident.advisory:
        elements += [
            button("Apology for one customer", OutageAction.APOLOGY_ONE, incident.number),
            button("All apologies", OutageAction.APOLOGY_ALL, incident.number),
        ]
    if not incident.resolved:
        elements += [
            button("Follow", OutageAction.FOLLOW, incident.number),
            button("Unfollow", OutageAction.UNFOLLOW, incident.number),
        ]
    if elements:
        blocks.append(
            {"type": "actions", "block_id": f"outage_{incident.number}", "elements": elements}
        )
    blocks.append(
        context(
            f"{escape(incident.external_id)} · {source} · "
            f"`/outage apology {incident.number} &lt;customer&gt;` for one customer's text"
        )
    )
    return blocks


def button(label: str, action: OutageAction, number: int) -> dict:
    return {"type": "button", "action_id": action, "text": plain(label), "value": str(number)}


def root_message(incident: IncidentView, impact: ImpactView) -> Message:
    kind = "Advisory" if incident.advisory else "Outage"
    text = f"{kind} #{incident.number} ({escape(incident.status)}): {escape(incident.title)}"
    return Message(shorten(text, 3000), root_blocks(incident, impact))


def apology_message(text: str, *, closing: bool = False, known: bool = True) -> list[Message]:
    """A ready-to-send text in the thread (already escaped by the template's autoescape); a long
    one goes on in the next messages, so all of it can be copied."""
    title = "Closing note, ready to send" if closing else "Apology, ready to send"
    whom = (
        ""
        if known
        else " to customers who report trouble or that you know were hit (the vendor did not "
        "say where, so any customer with the service may or may not be affected)"
    )
    blocks = [
        section(
            f"*{title}*{whom} (copy it, replace [customer] or use the buttons for one "
            "customer's text):"
        )
    ]
    return messages(title, blocks + sections(text))


def change_lines(changes: list[str]) -> str:
    """What changed, one bullet each; a change is vendor or staff text (the status words in it
    are the bot's own), so it is escaped."""
    return "\n".join(f"• {escape(change)}" for change in changes)


def update_messages(changes: list[str], incident: IncidentView) -> list[Message]:
    """A thread reply saying what changed (several quick changes collapse into one reply); a
    long vendor text goes on in as many replies as it needs."""
    lines = change_lines(changes) or "• details were updated"
    text = f"*Update* — now {escape(incident.status)}\n{lines}"
    fallback = f"Update: {escape(incident.title)}"
    replies = messages(fallback, sections(text, separator="\n"))
    if len(replies) <= MAX_REPLY_MESSAGES:
        return replies
    kept = replies[:MAX_REPLY_MESSAGES]
    last = kept[-1]
    note = context("✂️ The update is longer than partnerbot posts; the rest is left out.")
    kept[-1] = Message(last.text, last.blocks[:-1] + [note])
    return kept


def update_message(changes: list[str], incident: IncidentView) -> Message:
    """The update as one reply (what a burst of updates collapses into while it fits)."""
    return update_messages(changes, incident)[0]


def follower_message(incident: IncidentView, changes: list[str], thread_channel: str) -> Message:
    """A follower's DM: the update, cut to one message where it reads well (all of it is in
    the alert's thread)."""
    head = f"*Outage #{incident.number}: {escape(incident.title)}* — now {escape(incident.status)}"
    whole = f"{shorten(head, 600)}\n{change_lines(changes)}"
    text = shorten(whole, MAX_SECTION_TEXT)
    note = "You follow this outage. Press *Unfollow* on its alert to stop these."
    if text != whole:
        note = f"The whole update is in the alert's thread in <#{escape(thread_channel)}>. " + note
    return Message(
        shorten(f"Outage #{incident.number} update: {escape(incident.title)}", 3000),
        [section(text), context(note)],
    )


# Answers to /outage and the outage forms.

EXAMPLES = (
    "`/outage declare Exchange Online — Mail delayed for some users`",
    "`/outage update 1 Fix deployed, mail flowing again` · `/outage resolve 1`",
    "`/outage list` · `/outage apology 1 o'brien` · `/outage template apology`",
    "`/outage narrow EX123456 Europe` (where an outage the vendor did not place hit you)",
    "An outage's id is its number or the vendor's (`EX123456`); "
    "with one open outage, leave it out.",
)


def answer(text: str) -> list[Message]:
    return messages(shorten(text, 3000), [section(text)])


def usage(problem: str = "") -> list[Message]:
    lead = f"{problem}\n" if problem else ""
    return answer(
        lead
        + "*/outage* — your own outages, and apology texts:\n"
        + "\n".join(f"• {example}" for example in EXAMPLES)
    )


def outage_list(views: list[IncidentView]) -> list[Message]:
    if not views:
        return answer("No open outages and none in the last 30 days.")
    lines = []
    for view in views:
        state = f"resolved after {view.duration}" if view.resolved else view.status
        state = "closed, no impact" if view.no_impact else state
        source = "yours" if view.declared_by_partner else "vendor"
        lines.append(
            f"*#{view.number}* ({escape(view.external_id)}) {escape(view.title)} — "
            f"{escape(view.service)} · "
            f"_{escape(state)}_ · since {view.started} · {source}"
        )
    blocks = [header("Outages: open and the last 30 days")]
    blocks += [section(chunk) for chunk in pack(lines, separator="\n")]
    return messages(f"{len(views)} outages", blocks)


def apology_answer(customer_name: str, text: str) -> list[Message]:
    """One customer's text, all of it (in several messages when it is long)."""
    blocks = [section(f"*Apology for {escape(customer_name)}*, ready to send:")]
    return messages(f"Apology for {escape(customer_name)}", blocks + sections(text))


def apology_form(incident_number: int) -> dict:
    """The modal of "Apology for one customer": pick an affected customer."""
    return {
        "type": "modal",
        "callback_id": OutageAction.APOLOGY_FORM,
        "private_metadata": str(incident_number),
        "title": plain("Apology for a customer"),
        "submit": plain("Show the text"),
        "close": plain("Close"),
        "blocks": [
            {
                "type": "input",
                "block_id": OutageAction.APOLOGY_CUSTOMER,
                "label": plain("Affected customer"),
                "element": {
                    "type": "external_select",
                    "action_id": OutageAction.APOLOGY_CUSTOMER,
                    "placeholder": plain("Type part of a name or domain"),
                    "min_query_length": 0,
                },
            }
        ],
    }


def apology_result(customer_name: str, text: str) -> dict:
    blocks = [block for message in apology_answer(customer_name, text) for block in message.blocks]
    return {
        "type": "modal",
        "title": plain("Apology"),
        "close": plain("Done"),
        "blocks": blocks[:100],
    }


def template_form(kind: str, current: str) -> dict:
    """The modal of /outage template: the current wording, editable."""
    return {
        "type": "modal",
        "callback_id": OutageAction.TEMPLATE_FORM,
        "private_metadata": kind,
        "title": plain("Apology wording" if kind == "apology" else "Closing wording"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            context(
                "Jinja2: `{{ customer.name }}`, `{{ customer.contact_name }}`, "
                "`{{ partner.name }}`, `{{ services }}`, `{{ incident.title }}`, "
                "`{{ incident.started }}`, `{{ incident.impact }}`, `{{ incident.latest }}`, "
                "`{{ incident.next_update }}`, `{{ incident.duration }}`, "
                "`{{ incident.scope_known }}` (false: the vendor did not say where, the customer "
                "*may* be affected), `{{ credit.amount }}`, `{{ credit.availability }}`, "
                "`{{ credit.owed }}` (false: a credit to claim if affected) (closing only)."
            ),
            {
                "type": "input",
                "block_id": OutageAction.TEMPLATE_TEXT,
                "label": plain("Text"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": OutageAction.TEMPLATE_TEXT,
                    "multiline": True,
                    "initial_value": current[:3000],
                    "max_length": 3000,
                },
            },
        ],
    }
