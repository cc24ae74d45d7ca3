"""Picking a customer among several: the buttons, menus and options that /subscription, /order
and /outage share."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.blocks import MAX_BUTTON_TEXT, MAX_OPTION_TEXT, MAX_OPTIONS, plain, shorten
from storage.models import Customer

# Up to this many matches are offered as buttons; more as a select menu.
MAX_PICK_BUTTONS = 5


@dataclass(frozen=True)
class CustomerChoice:
    customer_id: int
    name: str
    domain: str


def choice(customer: Customer) -> CustomerChoice:
    return CustomerChoice(customer.id, customer.name, customer.domain)


def choice_label(choice: CustomerChoice) -> str:
    return f"{choice.name} · {choice.domain}"


def pick_elements(
    choices: list[CustomerChoice],
    *,
    button_action: str,
    select_action: str,
    suffix: str = "",
) -> list[dict]:
    """Buttons for a few customers, a select menu for more; each value is the customer's id
    followed by `suffix` (what else the click needs to carry)."""
    if len(choices) <= MAX_PICK_BUTTONS:
        return [
            {
                "type": "button",
                "action_id": f"{button_action}:{index}",
                "text": plain(shorten(choice_label(choice), MAX_BUTTON_TEXT)),
                "value": f"{choice.customer_id}{suffix}",
            }
            for index, choice in enumerate(choices)
        ]
    return [
        {
            "type": "static_select",
            "action_id": select_action,
            "placeholder": plain("Pick a customer"),
            "options": [
                {
                    "text": plain(shorten(choice_label(choice), MAX_OPTION_TEXT)),
                    "value": f"{choice.customer_id}{suffix}",
                }
                for choice in choices[:MAX_OPTIONS]
            ],
        }
    ]


def customer_options(found: list[CustomerChoice]) -> list[dict]:
    """Options for the form's customer search."""
    return [
        {
            "text": plain(shorten(choice_label(choice), MAX_OPTION_TEXT)),
            "value": str(choice.customer_id),
        }
        for choice in found
    ]


def pick_block(
    block_id: str,
    choices: list[CustomerChoice],
    *,
    button_action: str,
    select_action: str,
    suffix: str = "",
) -> dict:
    """An actions block offering the customers to pick from (see pick_elements)."""
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": pick_elements(
            choices, button_action=button_action, select_action=select_action, suffix=suffix
        ),
    }


def pick_action_ids(*, button_action: str, select_action: str) -> re.Pattern:
    """Matches every action id of a pick: the numbered buttons and the menu."""
    return re.compile(rf"^({re.escape(button_action)}(:\d+)?|{re.escape(select_action)})$")
