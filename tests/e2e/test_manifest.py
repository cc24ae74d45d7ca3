"""The Slack app manifest declares what the bot answers, at the URL it answers on."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.utils.factories import make_partner

MANIFEST = Path(__file__).parents[2] / "manifest.yml"
CONTRACT_COMMANDS = {"/subscription", "/order", "/outage", "/summary", "/partnerbot"}


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_declares_every_contract_command_at_the_events_url():
    commands = manifest()["features"]["slash_commands"]
    assert {c["command"] for c in commands} == CONTRACT_COMMANDS
    for command in commands:
        assert command["url"].endswith("/slack/events")
        # The bot escapes what it shows itself; /partnerbot takes mentions, which need ids.
        assert command["should_escape"] is (command["command"] == "/partnerbot")
        assert len(command["description"]) <= 100


def test_manifest_enables_interactivity_and_the_scopes_the_bot_uses():
    data = manifest()
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert {"commands", "chat:write"} <= set(data["oauth_config"]["scopes"]["bot"])
    # The outbox joins the public channels it posts to and reads them back after a crash.
    assert {"channels:join", "channels:history", "chat:write.public"} <= set(
        data["oauth_config"]["scopes"]["bot"]
    )


def test_manifest_asks_for_the_scopes_the_oauth_install_asks_for_and_redirects_back():
    from bot.oauth import BOT_SCOPES, REDIRECT_PATH

    data = manifest()
    assert sorted(data["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    (redirect,) = data["oauth_config"]["redirect_urls"]
    assert redirect == "https://partnerbot.example.com" + REDIRECT_PATH
    events = data["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    (partnerbot,) = [c for c in data["features"]["slash_commands"] if c["command"] == "/partnerbot"]
    assert "setup" in partnerbot["usage_hint"]


async def test_every_declared_command_gets_an_answer(bot, sessions):
    partner = await make_partner(sessions)
    for command in manifest()["features"]["slash_commands"]:
        name = command["command"]
        opens_a_form = name == "/order"  # with no arguments it opens the order form instead
        answer = await bot.slack.command(
            name, "", team_id=partner.team_id, wait_for=0 if opens_a_form else 1
        )
        assert answer.status == 200
        if opens_a_form:
            await bot.local_slack.wait_for(lambda: bot.local_slack.calls_to("views.open"))
        else:
            assert answer.messages[0]["text"], name
