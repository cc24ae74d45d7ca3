"""A seat cut is asked about before anything is filed: `/order goldcrest EXO 5` for a customer
with 23 seats may mean "set to 5" or "add 5". The two readings, the buttons and the form step
that offer them, and the choice a click or the form sends back."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.blocks import Message, button, context, escape, messages, plain, plural, section
from bot.catalogue import Plan
from bot.orders.rules import MAX_NOTE_LENGTH, MAX_SEATS
from storage.models import Customer

# A reading's value: "<customer id>:<plan code>:<seats to file>:<seats the customer had>".
READING = re.compile(r"^(\d{1,18}):([A-Za-z0-9_-]{1,16}):(\d{1,6}):(\d{1,6})$")


class CutAction(StrEnum):
    """Action, block and callback ids of the question about a seat cut."""

    SET = "order_cut_set"  # file the seats as typed: the cut
    ADD = "order_cut_add"  # add the typed seats to what the customer has
    NEITHER = "order_cut_neither"
    BLOCK = "order_cut"
    FORM = "order_cut_form"  # the order form's second step
    READING = "order_cut_reading"


CLICKS = re.compile(rf"^({CutAction.SET}|{CutAction.ADD}|{CutAction.NEITHER})$")


@dataclass(frozen=True)
class CutToConfirm:
    """An order would lower a subscription's seats: nothing is filed until the filer picks."""

    customer: Customer
    plan: Plan
    current: int  # the seats the customer has
    seats: int  # the number typed


@dataclass(frozen=True)
class Reading:
    """One way to read the number typed: the seats to file, and what it does in words."""

    seats: int
    label: str
    value: str


@dataclass(frozen=True)
class Choice:
    """A reading picked: file `seats` for the customer, provided it still has `seen` seats."""

    customer_id: int
    plan_code: str
    seats: int
    seen: int


def readings(cut: CutToConfirm) -> tuple[Reading, ...]:
    """ "Set to 5 (removes 18)" and, when it stays within the largest order, "add 5 (to 28)"."""
    key = f"{cut.customer.id}:{cut.plan.code}"
    found = [
        Reading(
            cut.seats,
            f"Set to {plural(cut.seats, 'seat')} (removes {cut.current - cut.seats:,})",
            f"{key}:{cut.seats}:{cut.current}",
        )
    ]
    added = cut.current + cut.seats
    if added <= MAX_SEATS:
        found.append(
            Reading(
                added,
                f"Add {cut.seats:,} (to {plural(added, 'seat')})",
                f"{key}:{added}:{cut.current}",
            )
        )
    return tuple(found)


def parse_choice(value: str) -> Choice | None:
    """Reads a reading's value back; None when it is not one."""
    match = READING.match(value)
    if match is None:
        return None
    customer_id, code, seats, seen = match.groups()
    return Choice(int(customer_id), code, int(seats), int(seen))


def question_text(cut: CutToConfirm) -> str:
    """Says what the number typed would do, and that nothing is filed yet (mrkdwn)."""
    name, code = escape(cut.customer.name), escape(cut.plan.code)
    removed = cut.current - cut.seats
    text = (
        f"*{name} has {plural(cut.current, 'seat')} of {code}.* An order for "
        f"{plural(cut.seats, 'seat')} sets it to {cut.seats:,} and *removes "
        f"{plural(removed, 'seat')}*. "
    )
    if cut.current + cut.seats <= MAX_SEATS:
        text += f"Did you mean that, or to add {cut.seats:,}? "
    else:
        text += f"Adding {cut.seats:,} would be more than {MAX_SEATS:,} seats. Is the cut meant? "
    return text + "Nothing is filed until you pick."


def cut_question(cut: CutToConfirm) -> list[Message]:
    """The answer to an order that lowers the seats: both readings as buttons, and neither."""
    set_to, *add = readings(cut)
    elements = [{**button(set_to.label, CutAction.SET, set_to.value), "style": "danger"}]
    elements += [{**button(a.label, CutAction.ADD, a.value), "style": "primary"} for a in add]
    elements.append(button("Neither", CutAction.NEITHER, "neither"))
    blocks = [
        section(question_text(cut)),
        {"type": "actions", "block_id": CutAction.BLOCK, "elements": elements},
    ]
    return messages(
        f"{escape(cut.customer.name)} has {cut.current:,} seats of {escape(cut.plan.code)}: set to "
        f"{cut.seats:,} or add {cut.seats:,}? Nothing filed yet",
        blocks,
    )


def nothing_filed() -> list[Message]:
    """The question answered "neither"."""
    text = "Nothing was filed. Type the order again with the seats the customer should have."
    return messages(text, [section(text)])


def cut_form(cut: CutToConfirm, *, note: str) -> dict:
    """The order form's second step for a cut: the same question, the readings as a choice;
    the note typed in the first step rides along."""
    options = [{"text": plain(reading.label), "value": reading.value} for reading in readings(cut)]
    return {
        "type": "modal",
        "callback_id": CutAction.FORM,
        "private_metadata": json.dumps({"note": note[:MAX_NOTE_LENGTH]}, ensure_ascii=False),
        "title": plain("Lower the seats?"),
        "submit": plain("File order"),
        "close": plain("Cancel"),
        "blocks": [
            section(question_text(cut)),
            {
                "type": "input",
                "block_id": CutAction.READING,
                "label": plain("File the order as"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": CutAction.READING,
                    "options": options,
                },
            },
            context("Cancel files nothing."),
        ],
    }


def note_of(private_metadata: str) -> str:
    """The note carried by the form's second step ("" when it carries none)."""
    try:
        carried = json.loads(private_metadata or "{}")
    except ValueError:
        return ""
    note = carried.get("note") if isinstance(carried, dict) else None
    return note[:MAX_NOTE_LENGTH] if isinstance(note, str) else ""
