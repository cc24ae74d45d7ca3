"""`/outage …`: reads declare, update, resolve, list, apology and template, and answers each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import clean_query, fold
from bot.blocks import Message, escape
from bot.catalogue import REGIONS, Catalogue
from bot.outages import messages as outage_messages
from bot.outages import narrowing, staff
from bot.outages.choosing import NUMBER, Chosen, choose_outage
from bot.outages.flows import update_collapse
from bot.outages.intake import REGION_BY_KEY, known_services
from bot.outages.messages import incident_view
from bot.outages.staff import Declare
from bot.services import Services
from storage.models import Partner

USAGE = (
    "`/outage declare &lt;service&gt; [region] — &lt;title&gt;` · "
    "`/outage update [id] &lt;text&gt;` · `/outage resolve [id]` · `/outage list` · "
    "`/outage apology [id] &lt;customer&gt;` · `/outage narrow [id] &lt;regions&gt;` · "
    "`/outage template [apology|closing]` (id: the outage's number or the vendor's, e.g. "
    "`EX123456`; left out, the one open outage)"
)
EXAMPLES = {
    "update": "/outage update EX123456 &lt;text&gt;",
    "resolve": "/outage resolve 7",
    "apology": "/outage apology EX123456 &lt;customer&gt;",
    "narrow": "/outage narrow EX123456 Europe",
}
MISSING = {
    "update": "Missing the update's text",
    "apology": "Missing the customer",
    "narrow": "Which regions? Regions",
}
DASHES = re.compile(r"\s+(?:—|–|--|-)\s+")
MAX_TITLE = 300


@dataclass(frozen=True)
class OnOutage:
    """update, resolve, apology or narrow: the outage (its id, or none for the one open) and
    what follows it, told apart once the partner's outages are known."""

    verb: str
    words: str


@dataclass(frozen=True)
class ListOutages:
    pass


@dataclass(frozen=True)
class Template:
    kind: str


@dataclass(frozen=True)
class Usage:
    problem: str = ""


OutageCommand = Declare | OnOutage | ListOutages | Template | Usage


def parse_declare(rest: str, catalogue: Catalogue) -> Declare | Usage:
    parts = DASHES.split(rest, maxsplit=1)
    if len(parts) != 2 or not parts[1].strip():
        return Usage(
            "Give the outage a title after a dash: `/outage declare Exchange Online "
            "Europe — Mail delayed for some users`."
        )
    where, title = fold(parts[0]), parts[1].strip()
    if len(title) > MAX_TITLE:
        return Usage(f"The title is longer than {MAX_TITLE} characters.")
    services = known_services(catalogue)
    for service in sorted(services, key=len, reverse=True):
        key = fold(service)
        if where == key or where.startswith(key + " "):
            region_text = where[len(key) :].strip()
            if not region_text:
                return Declare(service, None, title)
            region = REGION_BY_KEY.get(region_text)
            if region is None:
                return Usage(
                    f"`{escape(region_text)}` is not a region. Regions: "
                    f"{escape(', '.join(REGIONS))} (or none for all)."
                )
            return Declare(service, region, title)
    return Usage(
        f"`{escape(parts[0].strip())}` is not a service. Services: {escape(', '.join(services))}."
    )


def parse_outage_command(text: str, catalogue: Catalogue) -> OutageCommand:
    """Reads what followed `/outage`."""
    words = clean_query(text).split(" ", 2) if clean_query(text) else []
    if not words:
        return Usage()
    verb = words[0].lower()
    rest = clean_query(text)[len(words[0]) :].strip()
    if verb == "declare":
        return parse_declare(rest, catalogue) if rest else Usage("What is down? " + USAGE)
    if verb == "list":
        return ListOutages()
    if verb == "template":
        kind = (rest or "apology").lower()
        if kind not in ("apology", "closing"):
            return Usage(
                "Templates: `apology` (while an outage lasts) or `closing` (when it is "
                "resolved), e.g. `/outage template apology`."
            )
        return Template(kind)
    if verb in EXAMPLES:
        only_number = len(words) == 2 and NUMBER.fullmatch(words[1])
        if verb in MISSING and (len(words) == 1 or only_number):
            return Usage(f"{MISSING[verb]}: `{EXAMPLES[verb]}`. " + USAGE)
        return OnOutage(verb, rest)
    return Usage(f"`{escape(words[0])}` is not an /outage command.")


@dataclass(frozen=True)
class OutageReply:
    """What /outage gives back: answers for the asker, or a form to open instead."""

    answers: list[Message] = field(default_factory=list)
    form: dict | None = None


async def outage_reply(
    services: Services, text: str, *, partner: Partner, user_id: str
) -> OutageReply:
    """Answers what followed `/outage`, for someone of a partner."""
    parsed = parse_outage_command(text, services.catalogue)
    now = services.clock()
    async with services.sessions() as session:
        if isinstance(parsed, Template):
            current = await staff.current_template(session, partner=partner, kind=parsed.kind)
            return OutageReply(form=outage_messages.template_form(parsed.kind, current))
        answers = await outage_answer(
            session, parsed, partner=partner, services=services, user_id=user_id, now=now
        )
    return OutageReply(answers)


async def outage_answer(
    session: AsyncSession,
    parsed: OutageCommand,
    *,
    partner: Partner,
    services: Services,
    user_id: str,
    now: datetime,
) -> list[Message]:
    """Does what a parsed /outage asks (but the template form) and says how it went."""
    if isinstance(parsed, Usage):
        return outage_messages.usage(parsed.problem)
    if isinstance(parsed, ListOutages):
        incidents = await staff.recent(session, partner=partner, now=now)
        views = [incident_view(i, partner.timezone, now) for i in incidents]
        return outage_messages.outage_list(views)
    if isinstance(parsed, Declare):
        return await declare_answer(session, parsed, partner, services, user_id, now)
    return await on_outage_answer(session, parsed, partner, services, user_id, now)


def fits(verb: str, partner: Partner):
    """Which open outages a verb can act on, when its id is left out."""
    if verb in ("update", "resolve"):
        return lambda incident: incident.partner_id == partner.id
    if verb == "narrow":
        return lambda incident: incident.partner_id is None and not incident.regions
    return lambda incident: incident.classification == "incident"


async def on_outage_answer(
    session: AsyncSession,
    parsed: OnOutage,
    partner: Partner,
    services: Services,
    user_id: str,
    now: datetime,
) -> list[Message]:
    """Finds the outage meant, then updates, resolves, narrows it or gives an apology."""
    verb = parsed.verb
    chosen = await choose_outage(
        session,
        partner=partner,
        words=parsed.words,
        now=now,
        fits=fits(verb, partner),
        example=EXAMPLES[verb],
    )
    if chosen.problem:
        return outage_messages.answer(chosen.problem)
    if verb == "resolve" and chosen.rest:
        return outage_messages.answer(
            f"`{escape(chosen.rest)}` is not one of your outages: type `/outage resolve` with "
            "its number or the vendor's id; `/outage list` shows them."
        )
    if verb in MISSING and not chosen.rest:
        return outage_messages.answer(f"{MISSING[verb]}: `{EXAMPLES[verb]}`. " + USAGE)
    if verb == "apology":
        return await apology_answer(session, chosen, partner, services, now)
    if verb == "narrow":
        text = await narrowing.narrow(
            session,
            partner=partner,
            incident=chosen.incident,
            text=chosen.rest,
            by=user_id,
            now=now,
            catalogue=services.catalogue,
        )
        services.wake_outbox()
        return outage_messages.answer(text)
    return await change_answer(session, verb, chosen, partner, services, now)


async def declare_answer(
    session: AsyncSession,
    parsed: Declare,
    partner: Partner,
    services: Services,
    user_id: str,
    now: datetime,
) -> list[Message]:
    ingested = await staff.declare(
        session,
        partner=partner,
        declared=parsed,
        by=user_id,
        now=now,
        catalogue=services.catalogue,
        collapse=update_collapse(services),
    )
    services.wake_outbox()
    affected = (
        "your alert channel has the alert"
        if ingested.partners
        else ("none of your customers has a plan with that service, so no alert was posted")
    )
    return outage_messages.answer(
        f"Outage #{ingested.incident.id} declared ({parsed.service}): {affected}. "
        f"Post news with `/outage update {ingested.incident.id} &lt;text&gt;`, close it with "
        f"`/outage resolve {ingested.incident.id}`."
    )


async def change_answer(
    session: AsyncSession,
    verb: str,
    chosen: Chosen,
    partner: Partner,
    services: Services,
    now: datetime,
) -> list[Message]:
    number = chosen.incident.id
    result = await staff.change_declared(
        session,
        partner=partner,
        incident_id=number,
        text=chosen.rest,
        resolve=verb == "resolve",
        now=now,
        catalogue=services.catalogue,
        collapse=update_collapse(services),
    )
    if result.problem:
        return outage_messages.answer(result.problem)
    services.wake_outbox()
    done = "resolved" if verb == "resolve" else "updated"
    return outage_messages.answer(f"Outage #{number} {done}; the alert's thread has it.")


async def apology_answer(
    session: AsyncSession, chosen: Chosen, partner: Partner, services: Services, now: datetime
) -> list[Message]:
    result = await staff.apology_for(
        session,
        partner=partner,
        incident_id=chosen.incident.id,
        customer_query=chosen.rest,
        catalogue=services.catalogue,
        now=now,
    )
    if result.problem:
        return outage_messages.answer(result.problem)
    return outage_messages.apology_answer(result.customer.name, result.text)
