"""Block Kit for `/partnerbot setup`: the form that connects a workspace to a partner (or changes
its channels), the workspace's current settings, and what comes next."""

from __future__ import annotations

from enum import StrEnum

from bot.blocks import (
    MAX_FALLBACK_TEXT,
    Message,
    context,
    escape,
    input_block,
    plain,
    prefix_within,
    section,
    shorten,
    visible,
)
from bot.partners.signup import waiting_text
from bot.subscriptions.rules import COMMISSION_AND_PRICES, COMMISSION_ONLY, FOR_EVERYONE
from storage.models import Partner

MAX_NAME = 200


class SetupAction(StrEnum):
    """Callback and block ids of the setup form (each input's action id is its block id)."""

    FORM = "partnerbot_setup"
    DONE = "partnerbot_setup_done"
    NAME = "setup_name"
    ALERT_CHANNEL = "setup_alert_channel"
    MANAGER_CHANNEL = "setup_manager_channel"
    ORDERS_CHANNEL = "setup_orders_channel"
    TIMEZONE = "setup_timezone"
    MONEY = "setup_money"


# Who sees commission and prices in /subscription (Partner.money_for_managers_only).
MONEY_CHOICES = {
    FOR_EVERYONE: "Everyone in the workspace sees commission and prices",
    COMMISSION_ONLY: "Only managers see commission",
    COMMISSION_AND_PRICES: "Only managers see commission and prices",
}
MONEY_WORDS = {
    FOR_EVERYONE: "everyone",
    COMMISSION_ONLY: "commission for managers only",
    COMMISSION_AND_PRICES: "commission and prices for managers only",
}


def _channel_input(
    block_id: str, label: str, hint: str, *, initial: str | None, optional: bool = False
) -> dict:
    element = {
        "type": "conversations_select",
        "action_id": block_id,
        "placeholder": plain("Pick a channel"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if initial:
        element["initial_conversation"] = initial
    return input_block(block_id, label, element, hint=hint, optional=optional)


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str,
    max_length: int,
    placeholder: str = "",
    hint: str = "",
) -> dict:
    element = {"type": "plain_text_input", "action_id": block_id, "max_length": max_length}
    if placeholder:
        element["placeholder"] = plain(placeholder)
    # An initial value is not parsed, but shown as it is and saved again: no invisible
    # characters, and within the input's length as Slack counts it (no ellipsis to be saved).
    initial = prefix_within(visible(initial), max_length)
    if initial:
        element["initial_value"] = initial
    return input_block(block_id, label, element, hint=hint)


def _money_input(setting: str) -> dict:
    options = [{"text": plain(label), "value": value} for value, label in MONEY_CHOICES.items()]
    initial = next((o for o in options if o["value"] == setting), options[0])
    element = {
        "type": "radio_buttons",
        "action_id": SetupAction.MONEY,
        "options": options,
        "initial_option": initial,
    }
    return input_block(
        SetupAction.MONEY,
        "Money in /subscription",
        element,
        hint="Managers are those who get the weekly summaries. Everyone else gets the same "
        "answer without the figures kept for managers.",
    )


def setup_form(*, partner: Partner | None, name: str = "", timezone: str = "UTC") -> dict:
    """The form an admin fills in: the partner's name, its channels, time zone and who sees the
    money (filled in with the current settings when the workspace is set up already)."""
    money = FOR_EVERYONE
    if partner is not None:
        name, timezone = partner.name, partner.timezone
        money = partner.money_for_managers_only
        intro = (
            f"This workspace is set up for *{escape(partner.name)}*. Change its name, channels, "
            "time zone or who sees the money here."
        )
    else:
        intro = (
            "Connect this workspace to your partner account: name it, and pick where outage "
            "alerts, order answers and the managers' weekly summaries go. You become its first "
            "manager."
        )
    return {
        "type": "modal",
        "callback_id": SetupAction.FORM,
        "title": plain("partnerbot setup" if partner is None else "partnerbot settings"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            section(intro),
            _text_input(
                SetupAction.NAME,
                "Partner name",
                initial=name,
                max_length=MAX_NAME,
                placeholder="Your company, as your customers know it",
            ),
            _channel_input(
                SetupAction.ALERT_CHANNEL,
                "Outage alerts",
                "Where outage alerts and apology texts are posted. For a private channel, "
                "invite @partnerbot to it first.",
                initial=partner.alert_channel if partner else None,
            ),
            _channel_input(
                SetupAction.MANAGER_CHANNEL,
                "Weekly summaries",
                "The managers' channel: the weekly summary is posted there.",
                initial=partner.manager_channel if partner else None,
            ),
            _channel_input(
                SetupAction.ORDERS_CHANNEL,
                "Order answers",
                "Where customers' confirmations and declines are posted (none: the alert channel).",
                initial=partner.orders_channel if partner else None,
                optional=True,
            ),
            _text_input(
                SetupAction.TIMEZONE,
                "Time zone",
                initial=timezone,
                max_length=64,
                hint="An IANA name such as Europe/Berlin or America/New_York.",
            ),
            _money_input(money),
        ],
    }


def settings_text(partner: Partner, managers: list[str]) -> str:
    """A workspace's current partnerbot settings, in a few lines."""
    orders = partner.orders_channel or partner.alert_channel
    who = ", ".join(f"<@{m}>" for m in managers) or "none yet"
    return (
        f"This workspace is set up for the partner *{escape(partner.name)}*.\n"
        f"• Outage alerts: <#{partner.alert_channel}>\n"
        f"• Order answers: <#{orders}>\n"
        f"• Weekly summaries: <#{partner.manager_channel}>\n"
        f"• Time zone: {escape(partner.timezone)}\n"
        f"• Commission and prices in /subscription: "
        f"{MONEY_WORDS.get(partner.money_for_managers_only, MONEY_WORDS[COMMISSION_AND_PRICES])}\n"
        f"• Managers: {who}"
    )


def current_settings(
    partner: Partner, managers: list[str], *, may_change: bool, partner_center: str = ""
) -> Message:
    """The answer to `/partnerbot setup` in a workspace that is set up already (with a line on
    its Partner Center connection)."""
    text = settings_text(partner, managers)
    if partner_center:
        text += f"\n• {partner_center}"
    note = (
        "The settings form is open: change what you need and save."
        if may_change
        else "Only a workspace admin, or whoever installed partnerbot, can change them."
    )
    if partner.approved_at is None:
        note = escape(waiting_text(partner.name)) + " " + note
    return Message(shorten(text, MAX_FALLBACK_TEXT), [section(text), context(note)])


def not_allowed() -> Message:
    """The answer to `/partnerbot setup` from someone who may not set the workspace up."""
    text = (
        "Only a workspace admin or owner, or whoever installed partnerbot here, can set it up. "
        "Ask one of them to type `/partnerbot setup`."
    )
    return Message(text, [section(text)])


def done(partner: Partner, managers: list[str], *, created: bool, team_id: str) -> dict:
    """The form, replaced by what was saved and what comes next."""
    if partner.approved_at is None:
        next_steps = escape(waiting_text(partner.name))
    elif created:
        next_steps = (
            "*Next:* whoever runs partnerbot imports your customers and their subscriptions "
            f"(`python -m bot import customers FILE.csv --team-id {escape(team_id)}`). Add "
            "other managers with `/partnerbot managers add @someone`; `/partnerbot help` shows "
            "every command."
        )
    else:
        next_steps = "The new settings apply from now on."
    return {
        "type": "modal",
        "callback_id": SetupAction.DONE,
        "title": plain("partnerbot is set up" if created else "Settings saved"),
        "close": plain("Done"),
        "blocks": [section(settings_text(partner, managers)), section(next_steps)],
    }


def not_installed_text(install_url: str) -> str:
    """What someone in a workspace without partnerbot's installation is told (it was removed, or
    its token revoked)."""
    return (
        "partnerbot is not installed in this workspace any more, so it cannot answer. "
        f"A workspace admin can install it again from {install_url}."
    )


def not_set_up_text(team_id: str, *, many_workspaces: bool = False) -> str:
    if many_workspaces:
        operator = (
            "ask whoever runs partnerbot to link it to your partner account with "
            f"`python -m bot partner link --team-id {team_id} --partner-id …`"
        )
    else:
        operator = (
            "ask whoever runs partnerbot to register it with "
            f'`python -m bot partner add "Your company" --team-id {team_id} '
            "--alert-channel C… --manager-channel C…`"
        )
    return (
        "This workspace is not set up for partnerbot yet, so there is nothing to show. "
        f"A workspace admin can set it up now with `/partnerbot setup`, or {operator}; "
        "then try again."
    )
