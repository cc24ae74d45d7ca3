"""/outage and the alert's buttons and forms, through the real server."""

from __future__ import annotations

import asyncio
import json

from bot.outages.messages import OutageAction
from tests.utils.incidents import incident, posts_to, send, text_of, two_partners
from tests.utils.slack import actions_of


def opened_views(slack) -> list[dict]:
    views = [call.params["view"] for call in slack.calls_to("views.open")]
    return [json.loads(v) if isinstance(v, str) else v for v in views]


async def vendor_incident(bot, sessions):
    a, b, c = await two_partners(sessions)
    status, answer = await send(bot, incident())
    assert status == 201
    slack = bot.local_slack
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)
    root = posts_to(slack, a.alert_channel)[0]
    return a, b, c, answer["id"], root


async def test_staff_declare_update_resolve_and_list_their_own_outage(bot, sessions):
    a, b, _ = await two_partners(sessions)
    slack = bot.local_slack

    declared = await bot.slack.command(
        "/outage", "declare Exchange Online Europe — Mail stuck in the queue", team_id=a.team_id
    )
    assert "declared (Exchange Online): your alert channel has the alert" in declared.text
    number = int(declared.text.split("Outage #")[1].split(" ")[0])
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)
    assert "Mail stuck in the queue" in text_of(posts_to(slack, a.alert_channel)[0])
    assert posts_to(slack, b.alert_channel) == []  # a partner's own outage stays inside it

    refused = await bot.slack.command("/outage", f"update {number} hello", team_id=b.team_id)
    assert f"There is no outage #{number} for your company" in refused.text

    updated = await bot.slack.command("/outage", f"update {number} Queue is draining",
                                      team_id=a.team_id)  # fmt: skip
    assert f"Outage #{number} updated" in updated.text
    await slack.wait_for(lambda: any("Queue is draining" in text_of(c)
                                     for c in posts_to(slack, a.alert_channel)[2:]))  # fmt: skip

    resolved = await bot.slack.command("/outage", f"resolve {number}", team_id=a.team_id)
    assert f"Outage #{number} resolved" in resolved.text
    await slack.wait_for(lambda: any("Resolved* after" in text_of(c)
                                     for c in posts_to(slack, a.alert_channel)[2:]))  # fmt: skip
    again = await bot.slack.command("/outage", f"resolve {number}", team_id=a.team_id)
    assert "already resolved" in again.text

    listed = await bot.slack.command("/outage", "list", team_id=a.team_id)
    assert f"#{number}* (P{a.id}-" in listed.text and "Mail stuck in the queue" in listed.text
    assert "yours" in listed.text
    others = await bot.slack.command("/outage", "list", team_id=b.team_id)
    assert "Mail stuck" not in others.text


async def test_bad_outage_commands_say_what_to_type(bot, sessions):
    a, _, _ = await two_partners(sessions)
    cases = {
        "declare Teams — down": "`Teams` is not a service",
        "declare Exchange Online": "Give the outage a title after a dash",
        "declare Exchange Online Mars — down": "`mars` is not a region",
        "update": "Missing the update's text",
        "update 3": "Missing the update's text",
        "apology x": "Which outage?",
        "launch": "`launch` is not an /outage command",
        "template everything": "Templates: `apology`",
    }
    for text, expected in cases.items():
        answer = await bot.slack.command("/outage", text, team_id=a.team_id)
        assert expected in answer.text, (text, answer.text)


async def test_one_customers_apology_by_command_and_by_the_form(bot, sessions):
    a, b, _, number, root = await vendor_incident(bot, sessions)

    answer = await bot.slack.command("/outage", f"apology {number} large ag", team_id=a.team_id)
    assert "Apology for Large AG" in answer.text
    assert "Dear Jane Doe" in answer.text and "Large AG" in answer.text
    assert "Sat 10 Oct 2026, 10:00 Europe/Berlin" in answer.text
    assert "Alpha IT" in answer.text
    outside = await bot.slack.command("/outage", f"apology {number} faraway", team_id=a.team_id)
    assert "No customer of yours affected by outage" in outside.text
    other = await bot.slack.command("/outage", f"apology {number} large", team_id=b.team_id)
    assert "No customer of yours affected" in other.text and "Dear" not in other.text

    (block_id, button), *_ = [(b_id, e) for b_id, e in actions_of(root.params)
                              if e["action_id"] == OutageAction.APOLOGY_ONE]  # fmt: skip
    await bot.slack.click(button, block_id=block_id, team_id=a.team_id, wait_for=0)
    await bot.local_slack.wait_for(lambda: bot.local_slack.calls_to("views.open"))
    (form,) = opened_views(bot.local_slack)
    status, options = await bot.slack.options(action_id=OutageAction.APOLOGY_CUSTOMER,
                                              value="", team_id=a.team_id, view=form)  # fmt: skip
    labels = [o["text"]["text"] for o in options["options"]]
    assert status == 200 and len(labels) == 2 and labels[0].startswith("Large AG")
    value = options["options"][1]["value"]  # Small GmbH
    status, result = await bot.slack.submit(form, {
        OutageAction.APOLOGY_CUSTOMER: {"selected_option": {"value": value}}},
        team_id=a.team_id)  # fmt: skip
    assert result["response_action"] == "update"
    assert "Apology for Small GmbH" in json.dumps(result["view"], ensure_ascii=False)


async def test_all_apologies_arrive_as_one_file_in_the_thread(bot, sessions):
    a, _, _, _, root = await vendor_incident(bot, sessions)
    (block_id, button), *_ = [(b_id, e) for b_id, e in actions_of(root.params)
                              if e["action_id"] == OutageAction.APOLOGY_ALL]  # fmt: skip
    await bot.slack.click(button, block_id=block_id, team_id=a.team_id, wait_for=0)
    await bot.local_slack.wait_for(lambda: bot.local_slack.files)
    (file,) = bot.local_slack.files
    root_ts = next(r for r in bot.local_slack.posted[a.alert_channel] if r["thread_ts"] is None)
    assert file["channel"] == a.alert_channel and file["thread_ts"] == root_ts["ts"]
    assert file["content"].count("=== ") == 2
    assert "=== Large AG" in file["content"] and "=== Small GmbH" in file["content"]
    assert "Faraway" not in file["content"] and "&lt;" not in file["content"]


async def test_followers_get_later_updates_by_dm_until_they_unfollow(bot, sessions):
    a, _, _, number, root = await vendor_incident(bot, sessions)
    slack = bot.local_slack
    buttons = {e["action_id"]: (b_id, e) for b_id, e in actions_of(root.params)}

    block_id, follow = buttons[OutageAction.FOLLOW]
    followed = await bot.slack.click(follow, block_id=block_id, team_id=a.team_id,
                                     user_id="U0FAN")  # fmt: skip
    assert f"You will get every update of outage #{number} by DM" in followed.text

    await send(bot, incident(status="restoringService"))
    await slack.wait_for(lambda: posts_to(slack, "U0FAN"))
    assert "restoring service" in text_of(posts_to(slack, "U0FAN")[0])

    block_id, unfollow = buttons[OutageAction.UNFOLLOW]
    await bot.slack.click(unfollow, block_id=block_id, team_id=a.team_id, user_id="U0FAN")
    await send(bot, incident(status="verifyingService"))
    await slack.wait_for(lambda: len(slack.calls_to("chat.update")) >= 4)
    await asyncio.sleep(0.5)
    assert len(posts_to(slack, "U0FAN")) == 1


async def test_a_partner_rewords_its_apology_and_a_broken_template_is_refused(bot, sessions):
    a, _, _, number, _ = await vendor_incident(bot, sessions)
    await bot.slack.command("/outage", "template apology", team_id=a.team_id, wait_for=0)
    await bot.local_slack.wait_for(lambda: bot.local_slack.calls_to("views.open"))
    (form,) = opened_views(bot.local_slack)
    current = form["blocks"][1]["element"]["initial_value"]
    assert "We are sorry" in current  # the shipped wording

    status, refused = await bot.slack.submit(form, {OutageAction.TEMPLATE_TEXT: {
        "value": "Hello {{ customer.nmae }"}}, team_id=a.team_id)  # fmt: skip
    assert refused["response_action"] == "errors"
    assert "Not saved:" in refused["errors"][OutageAction.TEMPLATE_TEXT]

    own = "Hi {{ customer.name }}, {{ services }} hiccup. Sorry! — {{ partner.name }}"
    status, saved = await bot.slack.submit(form, {OutageAction.TEMPLATE_TEXT: {"value": own}},
                                           team_id=a.team_id)  # fmt: skip
    assert status == 200 and saved == {}
    answer = await bot.slack.command("/outage", f"apology {number} small", team_id=a.team_id)
    assert "Hi Small GmbH, Exchange Online hiccup. Sorry! — Alpha IT" in answer.text


async def test_a_staff_update_with_pings_and_ampersands_is_shown_as_typed_and_pings_nobody(
    bot, sessions
):
    a, _, _ = await two_partners(sessions)
    slack = bot.local_slack
    declared = await bot.slack.command(
        "/outage", "declare Exchange Online — Mail & calendar <down>", team_id=a.team_id
    )
    number = int(declared.text.split("Outage #")[1].split(" ")[0])
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)

    # Slack sends what was typed with &, < and > as entities; the bot reads it as typed and
    # escapes it once for the thread.
    await bot.slack.command(
        "/outage",
        f"update {number} <!channel> Tom & Jerry\u202e <@U0BOSS> fixed",
        team_id=a.team_id,
    )
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) >= 3)
    reply = posts_to(slack, a.alert_channel)[2]
    shown = text_of(reply)
    assert "&lt;!channel&gt; Tom &amp; Jerry &lt;@U0BOSS&gt; fixed" in shown
    assert "<!channel>" not in shown and "<@U0BOSS>" not in shown and "\u202e" not in shown
    assert "&amp;amp;" not in shown and "&amp;lt;" not in shown
    assert "Mail &amp; calendar &lt;down&gt;" in text_of(posts_to(slack, a.alert_channel)[0])


async def test_the_vendors_id_or_none_names_the_outage_and_the_closing_file_lands_in_the_thread(
    bot, sessions
):
    a, _, _, number, _ = await vendor_incident(bot, sessions)
    by_id = await bot.slack.command("/outage", "apology EX100200 large ag", team_id=a.team_id)
    assert "Apology for Large AG" in by_id.text
    only_one = await bot.slack.command("/outage", "apology large ag", team_id=a.team_id)
    assert "Apology for Large AG" in only_one.text
    wrong = await bot.slack.command("/outage", "apology EX999999 large", team_id=a.team_id)
    assert "There is no outage EX999999 for your company" in wrong.text

    declared = await bot.slack.command(
        "/outage", "declare Exchange Online Europe — Mail stuck", team_id=a.team_id
    )
    own = int(declared.text.split("Outage #")[1].split(" ")[0])
    # Two open outages: an apology must say which; resolve has only the declared one to take.
    several = await bot.slack.command("/outage", "apology large ag", team_id=a.team_id)
    assert "Which outage? 2 are open" in several.text
    resolved = await bot.slack.command("/outage", "resolve", team_id=a.team_id)
    assert f"Outage #{own} resolved" in resolved.text

    slack = bot.local_slack
    await slack.wait_for(lambda: slack.files)
    (file,) = slack.files
    root = next(
        post
        for post in slack.posted[a.alert_channel]
        if post["thread_ts"] is None and "Mail stuck" in post["text"]
    )
    assert file["channel"] == a.alert_channel and file["thread_ts"] == root["ts"]
    assert file["content"].startswith("customer,domain,availability this month,credit rate,")
    assert file["content"].count("\n") == 3  # the header, Large AG and Small GmbH
    assert number != own


async def test_staff_narrow_an_outage_the_vendor_did_not_place(bot, sessions):
    a, b, _ = await two_partners(sessions)
    body = {k: v for k, v in incident().items() if k != "regions"}
    status, _ = await send(bot, body)
    assert status == 201
    slack = bot.local_slack
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)
    assert "may be affected:* 3 customers" in text_of(posts_to(slack, a.alert_channel)[0])

    narrowed = await bot.slack.command("/outage", "narrow Europe", team_id=a.team_id)
    assert "narrowed to Europe for your team: 2 customers affected" in narrowed.text
    await slack.wait_for(lambda: slack.calls_to("chat.update"))
    (edit,) = slack.calls_to("chat.update")
    assert "*Your customers affected:* 2 customers" in text_of(edit)
    bad = await bot.slack.command("/outage", "narrow EX100200 Atlantis", team_id=a.team_id)
    assert "`atlantis` is not a region" in bad.text
    theirs = await bot.slack.command("/outage", "narrow", team_id=b.team_id)
    assert "Which regions?" in theirs.text
