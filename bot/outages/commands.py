"""`/outage …`: reads declare, update, resolve, list, apology and template, and answers each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import clean_query, fold, whole_number
from bot.blocks import Message, escape
from bot.catalogue import REGIONS, Catalogue
from bot.outages import messages as outage_messages
from bot.outages import staff
from bot.outages.flows import update_collapse
from bot.outages.intake import REGION_BY_KEY, known_services
from bot.outages.messages import incident_view
from bot.outages.staff import Declare
from bot.services import Services
from storage.models import Partner

USAGE = (
    "`/outage declare &lt;service&gt; [region] — &lt;title&gt;` · "
    "`/outage update &lt;id&gt; &lt;text&gt;` · `/outage resolve &lt;id&gt;` · `/outage list` · "
    "`/outage apology &lt;id&gt; &lt;customer&gt;` · `/outage template [apology|closing]`"
)
DASHES = re.compile(r"\s+(?:—|–|--|-)\s+")
MAX_TITLE = 300


@dataclass(frozen=True)
class Update:
    incident_id: int
    text: str


@dataclass(frozen=True)
class Resolve:
    incident_id: int


@dataclass(frozen=True)
class ListOutages:
    pass


@dataclass(frozen=True)
class Apology:
    incident_id: int
    customer_query: str


@dataclass(frozen=True)
class Template:
    kind: str


@dataclass(frozen=True)
class Usage:
    problem: str = ""


OutageCommand = Declare | Update | Resolve | ListOutages | Apology | Template | Usage


def incident_number(word: str) -> int | None:
    number = word.lstrip("#")
    return int(number) if whole_number(number, digits=12) else None


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
    if verb in ("update", "resolve", "apology"):
        number = incident_number(words[1]) if len(words) > 1 else None
        if number is None:
            return Usage(
                f"Which outage? Type `/outage {verb} &lt;id&gt;`; `/outage list` shows ids."
            )
        more = words[2].strip() if len(words) > 2 else ""
        if verb == "resolve":
            return Resolve(number)
        if not more:
            what = "the update's text" if verb == "update" else "the customer"
            return Usage(f"Missing {what}: " + USAGE)
        return Update(number, more) if verb == "update" else Apology(number, more)
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
    if isinstance(parsed, Update | Resolve):
        return await change_answer(session, parsed, partner, services, now)
    return await apology_answer(session, parsed, partner, services, now)


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
    parsed: Update | Resolve,
    partner: Partner,
    services: Services,
    now: datetime,
) -> list[Message]:
    result = await staff.change_declared(
        session,
        partner=partner,
        incident_id=parsed.incident_id,
        text=getattr(parsed, "text", ""),
        resolve=isinstance(parsed, Resolve),
        now=now,
        catalogue=services.catalogue,
        collapse=update_collapse(services),
    )
    if result.problem:
        return outage_messages.answer(result.problem)
    services.wake_outbox()
    done = "resolved" if isinstance(parsed, Resolve) else "updated"
    return outage_messages.answer(
        f"Outage #{parsed.incident_id} {done}; the alert's thread has it."
    )


async def apology_answer(
    session: AsyncSession, parsed: Apology, partner: Partner, services: Services, now: datetime
) -> list[Message]:
    result = await staff.apology_for(
        session,
        partner=partner,
        incident_id=parsed.incident_id,
        customer_query=parsed.customer_query,
        catalogue=services.catalogue,
        now=now,
    )
    if result.problem:
        return outage_messages.answer(result.problem)
    return outage_messages.apology_answer(result.customer.name, result.text)
