"""Slack listeners for /outage and the buttons and forms of outage alerts."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.arguments import slash_text
from bot.outages import actions
from bot.outages.commands import outage_reply
from bot.outages.messages import OutageAction
from bot.services import Services
from handlers.errors import answering_failures
from handlers.replies import form_values, send


def button_value(action: dict) -> str:
    return str(action.get("value") or "")


def user_of(body: dict) -> str:
    return body.get("user", {}).get("id", "")


async def outage_command(ack, command, respond, context, client) -> None:
    await ack()
    services: Services = context["services"]
    reply = await outage_reply(
        services,
        slash_text(command.get("text")),
        partner=context["partner"],
        user_id=command.get("user_id", ""),
    )
    if reply.form is not None:
        await client.views_open(trigger_id=command["trigger_id"], view=reply.form)
        return
    await send(respond, reply.answers, replace_original=False)


async def follow_clicked(ack, action, respond, context, body) -> None:
    await ack()
    text = await actions.follow_answer(
        context["services"],
        partner=context["partner"],
        value=button_value(action),
        user_id=user_of(body),
        follow=action.get("action_id") == OutageAction.FOLLOW,
    )
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def apology_one_clicked(ack, action, respond, context, body, client) -> None:
    await ack()
    form = actions.apology_form(button_value(action))
    await client.views_open(trigger_id=body["trigger_id"], view=form)


async def apology_customer_options(ack, payload, body, context) -> None:
    options = await actions.affected_options(
        context["services"],
        partner=context["partner"],
        value=(body.get("view") or {}).get("private_metadata", ""),
        typed=payload.get("value") or "",
    )
    await ack(options=options)


async def apology_form_submitted(ack, view, context) -> None:
    answer = await actions.apology_form_answer(
        context["services"],
        partner=context["partner"],
        value=view.get("private_metadata", ""),
        customer_value=form_values(view).get(OutageAction.APOLOGY_CUSTOMER, ""),
    )
    if answer.errors:
        await ack(response_action="errors", errors=answer.errors)
        return
    await ack(response_action="update", view=answer.view)


async def all_apologies_clicked(ack, action, respond, context, client) -> None:
    await ack()
    file = await actions.all_apologies_file(
        context["services"], partner=context["partner"], value=button_value(action)
    )
    if file.problem:
        await respond(text=file.problem, response_type="ephemeral", replace_original=False)
        return
    await client.files_upload_v2(
        channel=file.channel,
        thread_ts=file.thread_ts,
        content=file.content,
        filename=file.filename,
        title=file.title,
    )


async def template_submitted(ack, view, body, context) -> None:
    answer = await actions.template_answer(
        context["services"],
        partner=context["partner"],
        kind=view.get("private_metadata") or "apology",
        text=form_values(view).get(OutageAction.TEMPLATE_TEXT, ""),
        user_id=user_of(body),
    )
    if answer.errors:
        await ack(response_action="errors", errors=answer.errors)
        return
    await ack()


def register(app: AsyncApp) -> None:
    app.command("/outage")(answering_failures(outage_command))
    app.action(OutageAction.FOLLOW)(answering_failures(follow_clicked))
    app.action(OutageAction.UNFOLLOW)(answering_failures(follow_clicked))
    app.action(OutageAction.APOLOGY_ONE)(answering_failures(apology_one_clicked))
    app.action(OutageAction.APOLOGY_ALL)(answering_failures(all_apologies_clicked))
    app.options(OutageAction.APOLOGY_CUSTOMER)(answering_failures(apology_customer_options))
    app.view(OutageAction.APOLOGY_FORM)(answering_failures(apology_form_submitted))
    app.view(OutageAction.TEMPLATE_FORM)(answering_failures(template_submitted))
