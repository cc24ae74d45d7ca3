"""Block Kit of the Partner Center connection: the connect form, its outcome, a sync's answer,
and the managers' notices when syncs stop and start working again."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.blocks import Message, context, escape, input_block, plain, section
from bot.zones import ago_words
from storage.models import Order, PartnerCenterConnection

GUID_HINT = "A GUID such as 8d2a2f29-0b1c-4b3e-9f5a-2c7d1e4b6a90, shown on the app's Overview."


class ConnectAction(StrEnum):
    """Callback and block ids of the connect form (each input's action id is its block id)."""

    FORM = "partner_center_connect"
    DONE = "partner_center_connected"
    TENANT = "pc_tenant"
    CLIENT_ID = "pc_client_id"
    SECRET = "pc_secret"
    MPN_ID = "pc_mpn_id"


def _input(block_id: str, label: str, hint: str, *, max_length: int, optional=False) -> dict:
    element = {"type": "plain_text_input", "action_id": block_id, "max_length": max_length}
    return input_block(block_id, label, element, hint=hint, optional=optional)


def connect_form(connection: PartnerCenterConnection | None) -> dict:
    """The form a manager fills in once: the app registered in the partner's Entra tenant. The
    secret is never filled in again, not even when the partner is connected already."""
    intro = (
        "Connect your Partner Center so that `/subscription` shows your customers' live "
        "subscriptions. Register an app in your own Microsoft Entra tenant and give it access to "
        "Partner Center first (partnerbot's README, *Connect Partner Center*)."
    )
    if connection is not None:
        intro += (
            f"\nConnected now with app `{escape(connection.client_id)}`: saving replaces it "
            "(the secret is never shown; type it again)."
        )
    return {
        "type": "modal",
        "callback_id": ConnectAction.FORM,
        "title": plain("Connect Partner Center"),
        "submit": plain("Connect"),
        "close": plain("Cancel"),
        "blocks": [
            section(intro),
            _input(
                ConnectAction.TENANT,
                "Directory (tenant) ID",
                "Your Microsoft Entra tenant: its ID, or a domain such as contoso.onmicrosoft.com.",
                max_length=64,
            ),
            _input(ConnectAction.CLIENT_ID, "Application (client) ID", GUID_HINT, max_length=64),
            _input(
                ConnectAction.SECRET,
                "Client secret",
                "The secret's Value (not its ID). Stored encrypted, never shown again.",
                max_length=256,
            ),
            _input(
                ConnectAction.MPN_ID,
                "Your partner (MPN) ID",
                "Optional: tells subscriptions an indirect reseller sold apart from yours.",
                max_length=20,
                optional=True,
            ),
        ],
    }


def connected_view(connection: PartnerCenterConnection) -> dict:
    """The form, replaced once the connection works."""
    text = (
        f"Partner Center is connected (app `{escape(connection.client_id)}` in tenant "
        f"`{escape(connection.tenant_id)}`). The first sync runs within a minute; "
        "`/partnerbot sync` runs one now."
    )
    return {
        "type": "modal",
        "callback_id": ConnectAction.DONE,
        "title": plain("Connected"),
        "close": plain("Done"),
        "blocks": [section(text)],
    }


def status_text(connection: PartnerCenterConnection | None, *, now: datetime) -> str:
    """How the partner's Partner Center connection stands, in one line."""
    if connection is None:
        return (
            "Partner Center: not connected. A manager connects it with "
            "`/partnerbot setup partner-center`."
        )
    synced = (
        f"last synced {ago_words(connection.last_synced_at, now)}"
        if connection.last_synced_at
        else "not synced yet"
    )
    line = f"Partner Center: connected (app `{escape(connection.client_id)}`), {synced}."
    if connection.problem:
        line += f" The last sync failed: {escape(connection.problem)}"
    return line


def problem_message(problem: str, *, last_synced_at: datetime | None, now: datetime) -> Message:
    """Tells the managers, once, that syncs from Partner Center stopped working and what to do."""
    since = (
        f"`/subscription` shows what Partner Center said {ago_words(last_synced_at, now)}"
        if last_synced_at
        else "Nothing has been read from Partner Center yet"
    )
    text = (
        f":warning: *Partner Center sync failed; nothing was changed.* {escape(problem)}\n"
        f"{since}; partnerbot keeps trying on its schedule and says so here once it works again."
    )
    return Message("Partner Center sync failed; nothing was changed", [section(text)])


def recovered_message() -> Message:
    text = "Partner Center sync works again: `/subscription` shows live figures."
    return Message(text, [context(text)])


def sync_answer(report_words: str | None, problem: str | None) -> Message:
    """The answer to `/partnerbot sync`."""
    if problem is not None:
        text = f"The sync failed; nothing was changed. {escape(problem)}"
    else:
        text = f"Synced from Partner Center: {report_words}."
    return Message(text, [section(text)])


def placement_message(order: Order, *, customer_name: str) -> Message:
    """Tells the filer and the orders channel what Partner Center did with a confirmed order."""
    what = (
        f"order #{order.id} ({order.seats:,} seats of {escape(order.plan_code)} for "
        f"{escape(customer_name)})"
    )
    problem = escape(order.placement_problem.rstrip("."))
    match order.placement:
        case "placed":
            text = (
                f":white_check_mark: *Placed in Partner Center:* {what}. The subscription shows "
                "in `/subscription` as Partner Center lists it."
            )
        case "refused":
            text = (
                f":x: *Partner Center refused* {what}: {problem}. The customer's "
                "confirmation is kept; nothing was ordered. File a corrected order with `/order`."
            )
        case _:
            text = (
                f":hourglass: *Not placed in Partner Center yet:* {what}. The customer's "
                f"confirmation is kept. {problem}. partnerbot tries again on its "
                "own and says here when it is placed."
            )
    return Message(text, [section(text)])
