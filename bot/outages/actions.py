"""What the buttons and forms of an outage alert do, given the plain values Slack sends: follow an
outage, pick an affected customer and show its apology, upload all apologies, save a template."""

from __future__ import annotations

from dataclasses import dataclass

from bot.arguments import whole_number
from bot.outages import messages as outage_messages
from bot.outages import staff
from bot.outages.messages import OutageAction
from bot.picking import choice, customer_options
from bot.services import Services
from storage.models import Partner


def incident_number(value: str) -> int | None:
    """The incident a button or form carries (its value or private metadata)."""
    return int(value) if whole_number(value) else None


async def follow_answer(
    services: Services, *, partner: Partner, value: str, user_id: str, follow: bool
) -> str:
    """Follows an outage by DM, or stops; returns the answer."""
    async with services.sessions() as session:
        return await staff.follow(
            session,
            partner=partner,
            incident_id=incident_number(value) or 0,
            user_id=user_id,
            on=follow,
        )


def apology_form(value: str) -> dict:
    """The form "Apology for one customer" opens."""
    return outage_messages.apology_form(incident_number(value) or 0)


async def affected_options(
    services: Services, *, partner: Partner, value: str, typed: str
) -> list[dict]:
    """The affected customers matching what was typed in the apology form, as its options."""
    found = []
    async with services.sessions() as session:
        incident = await staff.visible_incident(
            session, partner=partner, incident_id=incident_number(value) or 0
        )
        if incident is not None:
            found = await staff.affected_matching(
                session,
                partner=partner,
                incident=incident,
                catalogue=services.catalogue,
                text=typed,
            )
    return customer_options([choice(c) for c in found])


@dataclass(frozen=True)
class FormAnswer:
    """How a submitted form is answered: its errors by block, or the view that replaces it."""

    errors: dict[str, str] | None = None
    view: dict | None = None


async def apology_form_answer(
    services: Services, *, partner: Partner, value: str, customer_value: str
) -> FormAnswer:
    """The apology for the customer picked in the form, or why there is none."""
    if not (whole_number(value) and whole_number(customer_value)):
        return FormAnswer(errors={OutageAction.APOLOGY_CUSTOMER: "Pick a customer from the list."})
    async with services.sessions() as session:
        result = await staff.apology_for(
            session,
            partner=partner,
            incident_id=int(value),
            customer_id=int(customer_value),
            catalogue=services.catalogue,
            now=services.clock(),
        )
    if result.problem:
        return FormAnswer(errors={OutageAction.APOLOGY_CUSTOMER: result.problem})
    return FormAnswer(view=outage_messages.apology_result(result.customer.name, result.text))


@dataclass(frozen=True)
class ApologiesFile:
    """All apologies of an outage as a file for the alert's thread; or `problem` instead."""

    channel: str = ""
    thread_ts: str = ""
    content: str = ""
    filename: str = ""
    title: str = ""
    problem: str = ""


async def all_apologies_file(services: Services, *, partner: Partner, value: str) -> ApologiesFile:
    """One personalised text per affected customer, for the thread of the partner's alert."""
    number = incident_number(value) or 0
    async with services.sessions() as session:
        incident = await staff.visible_incident(session, partner=partner, incident_id=number)
        root = (
            await staff.root_of(session, partner=partner, incident=incident) if incident else None
        )
        content = (
            await staff.all_apologies(
                session,
                partner=partner,
                incident=incident,
                catalogue=services.catalogue,
                now=services.clock(),
            )
            if root
            else ""
        )
    if not root:
        return ApologiesFile(problem=staff.not_found(number))
    channel, ts = root
    return ApologiesFile(
        channel=channel,
        thread_ts=ts,
        content=content,
        filename=f"outage-{number}-apologies.txt",
        title=f"Apologies for outage #{number}, one per affected customer",
    )


async def template_answer(
    services: Services, *, partner: Partner, kind: str, text: str, user_id: str
) -> FormAnswer:
    """Saves a partner's template wording, or says in the form why it cannot be used."""
    async with services.sessions() as session:
        problem = await staff.save_template(
            session, partner=partner, kind=kind, body=text, by=user_id, now=services.clock()
        )
    if problem:
        return FormAnswer(errors={OutageAction.TEMPLATE_TEXT: f"Not saved: {problem}"[:2000]})
    return FormAnswer()
