"""Slack listeners for /outage and the buttons and forms of outage alerts."""

from __future__ import annotations

from datetime import timedelta

from slack_bolt.async_app import AsyncApp

from bot.arguments import whole_number
from bot.outages import commands, flows, staff
from bot.outages import messages as outage_messages
from bot.outages.messages import OutageAction
from bot.picking import choice, customer_options
from bot.services import Services
from handlers.errors import answering_failures
from handlers.replies import form_values, send
from storage.models import Partner


def collapse(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.outage_update_collapse_seconds)


async def outage_command(ack, command, respond, context, client) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    parsed = commands.parse_outage_command(command.get("text") or "", services.catalogue)
    await ack()
    user_id = command.get("user_id", "")
    now = services.clock()
    async with services.sessions() as session:
        if isinstance(parsed, commands.Template):
            current = await staff.current_template(session, partner=partner, kind=parsed.kind)
            await client.views_open(
                trigger_id=command["trigger_id"],
                view=outage_messages.template_form(parsed.kind, current),
            )
            return
        answers = await outage_answer(
            session, parsed, partner=partner, services=services, user_id=user_id, now=now
        )
    await send(respond, answers, replace_original=False)


async def outage_answer(
    session, parsed, *, partner: Partner, services: Services, user_id: str, now
) -> list:
    catalogue = services.catalogue
    if isinstance(parsed, commands.Usage):
        return outage_messages.usage(parsed.problem)
    if isinstance(parsed, commands.ListOutages):
        incidents = await staff.recent(session, partner=partner, now=now)
        views = [flows.incident_view(i, partner.timezone, now) for i in incidents]
        return outage_messages.outage_list(views)
    if isinstance(parsed, commands.Declare):
        ingested = await staff.declare(
            session,
            partner=partner,
            declared=parsed,
            by=user_id,
            now=now,
            catalogue=catalogue,
            collapse=collapse(services),
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
    if isinstance(parsed, commands.Update | commands.Resolve):
        result = await staff.change_declared(
            session,
            partner=partner,
            incident_id=parsed.incident_id,
            text=getattr(parsed, "text", ""),
            resolve=isinstance(parsed, commands.Resolve),
            now=now,
            catalogue=catalogue,
            collapse=collapse(services),
        )
        if result.problem:
            return outage_messages.answer(result.problem)
        services.wake_outbox()
        done = "resolved" if isinstance(parsed, commands.Resolve) else "updated"
        return outage_messages.answer(
            f"Outage #{parsed.incident_id} {done}; the alert's thread has it."
        )
    result = await staff.apology_for(
        session,
        partner=partner,
        incident_id=parsed.incident_id,
        customer_query=parsed.customer_query,
        catalogue=catalogue,
        now=now,
    )
    if result.problem:
        return outage_messages.answer(result.problem)
    return outage_messages.apology_answer(result.customer.name, result.text)


def incident_number(action: dict) -> int | None:
    value = str(action.get("value") or "")
    return int(value) if whole_number(value) else None


async def follow_clicked(ack, action, respond, context, body) -> None:
    await ack()
    services: Services = context["services"]
    number = incident_number(action)
    async with services.sessions() as session:
        text = await staff.follow(
            session,
            partner=context["partner"],
            incident_id=number or 0,
            user_id=body.get("user", {}).get("id", ""),
            on=action.get("action_id") == OutageAction.FOLLOW,
        )
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def apology_one_clicked(ack, action, respond, context, body, client) -> None:
    await ack()
    number = incident_number(action) or 0
    await client.views_open(
        trigger_id=body["trigger_id"], view=outage_messages.apology_form(number)
    )


async def apology_customer_options(ack, payload, body, context) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    number = (body.get("view") or {}).get("private_metadata", "")
    found = []
    async with services.sessions() as session:
        incident = await staff.visible_incident(
            session, partner=partner, incident_id=int(number) if whole_number(number) else 0
        )
        if incident is not None:
            found = await staff.affected_matching(
                session,
                partner=partner,
                incident=incident,
                catalogue=services.catalogue,
                text=payload.get("value") or "",
            )
    await ack(options=customer_options([choice(c) for c in found]))


async def apology_form_submitted(ack, view, context) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    number = view.get("private_metadata", "")
    customer_id = form_values(view).get(OutageAction.APOLOGY_CUSTOMER, "")
    if not (whole_number(number) and whole_number(customer_id)):
        await ack(
            response_action="errors",
            errors={OutageAction.APOLOGY_CUSTOMER: "Pick a customer from the list."},
        )
        return
    async with services.sessions() as session:
        result = await staff.apology_for(
            session,
            partner=partner,
            incident_id=int(number),
            customer_id=int(customer_id),
            catalogue=services.catalogue,
            now=services.clock(),
        )
    if result.problem:
        await ack(response_action="errors", errors={OutageAction.APOLOGY_CUSTOMER: result.problem})
        return
    await ack(
        response_action="update",
        view=outage_messages.apology_result(result.customer.name, result.text),
    )


async def all_apologies_clicked(ack, action, respond, context, client) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    number = incident_number(action) or 0
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
        await respond(
            text=staff.not_found(number), response_type="ephemeral", replace_original=False
        )
        return
    channel, ts = root
    await client.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        content=content,
        filename=f"outage-{number}-apologies.txt",
        title=f"Apologies for outage #{number}, one per affected customer",
    )


async def template_submitted(ack, view, body, context) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    kind = view.get("private_metadata") or "apology"
    text = form_values(view).get(OutageAction.TEMPLATE_TEXT, "")
    async with services.sessions() as session:
        problem = await staff.save_template(
            session,
            partner=partner,
            kind=kind,
            body=text,
            by=body.get("user", {}).get("id", ""),
            now=services.clock(),
        )
    if problem:
        await ack(
            response_action="errors",
            errors={OutageAction.TEMPLATE_TEXT: f"Not saved: {problem}"[:2000]},
        )
        return
    await ack()


def register(app: AsyncApp) -> None:
    app.command("/outage")(answering_failures(outage_command))
    app.action(OutageAction.FOLLOW)(answering_failures(follow_clicked))
    app.action(OutageAction.UNFOLLOW)(answering_failures(follow_clicked))
    app.action(OutageAction.APOLOGY_ONE)(answering_failures(apology_one_clicked))
    app.action(OutageAction.APOLOGY_ALL)(answering_failures(all_apologies_clicked))
    app.options(OutageAction.APOLOGY_CUSTOMER)(apology_customer_options)
    app.view(OutageAction.APOLOGY_FORM)(apology_form_submitted)
    app.view(OutageAction.TEMPLATE_FORM)(template_submitted)
