"""Forms (Slack's modals) in the local shell: shown as text, and filled in by typing when they ask
for one thing — a text (the apology wording) or a pick from a menu (an affected customer)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from devtools.text import Choice, render, text_of

TEXT_INPUTS = ("plain_text_input",)
MENUS = ("external_select", "static_select")
END_OF_TEXT = "."


@dataclass
class Form:
    """An open form that asks for one thing, and what has been typed into it so far."""

    view: dict
    block_id: str
    element: dict
    lines: list[str] = field(default_factory=list)

    @property
    def asks_for_text(self) -> bool:
        return self.element.get("type") in TEXT_INPUTS

    @property
    def label(self) -> str:
        block = next(b for b in self.view.get("blocks", []) if b.get("block_id") == self.block_id)
        return text_of(block.get("label") or {})

    def typed_value(self) -> dict:
        """The input's state as Slack submits it, from the lines typed."""
        return {"type": self.element["type"], "value": "\n".join(self.lines)}

    def picked_value(self, choice: Choice) -> dict:
        """The menu's state as Slack submits it, once an option is picked."""
        option = {"text": {"type": "plain_text", "text": choice.label}, "value": choice.value}
        return {"type": self.element["type"], "selected_option": option}


def fillable(view: dict) -> Form | None:
    """The form the shell can fill in: a view with one input, a text or a menu."""
    inputs = [block for block in view.get("blocks", []) if block.get("type") == "input"]
    if len(inputs) != 1:
        return None
    element = inputs[0].get("element") or {}
    if element.get("type") not in TEXT_INPUTS + MENUS:
        return None
    return Form(view, inputs[0].get("block_id", ""), element)


def shown(view: dict) -> str:
    """A view as text: its title underlined, then its blocks."""
    title = text_of(view.get("title") or {})
    body, _ = render(view.get("blocks", []))
    return f"{title}\n{'=' * len(title)}\n{body}".rstrip()


def how_to_fill(form: Form | None, view: dict) -> str:
    """What the reader types to fill in a form, or that the shell cannot."""
    if form is None:
        if not any(block.get("type") == "input" for block in view.get("blocks", [])):
            return ""
        return "(The shell cannot fill in this form; in Slack it opens as a dialog.)"
    submit = text_of(view.get("submit") or {}) or "Submit"
    if form.asks_for_text:
        return (
            f"Type the new “{form.label}” (as many lines as you need), then a line holding only "
            f"`{END_OF_TEXT}` to {submit.lower()}; `cancel` closes the form unchanged."
        )
    return (
        f"Pick “{form.label}” by its number ({submit.lower()}), or type part of a name to narrow "
        "the list; `cancel` closes the form."
    )


def menu_choices(form: Form, answer: str) -> list[Choice]:
    """The options an options load answered, as choices of the form's menu."""
    loaded = json.loads(answer) if answer.startswith("{") else {}
    options = list(loaded.get("options", []))
    for group in loaded.get("option_groups", []):
        options += group.get("options", [])
    action_id = form.element.get("action_id", "")
    return [
        Choice(text_of(option.get("text") or {}), action_id, form.block_id, option["value"],
               "form_option")
        for option in options
    ]  # fmt: skip


SHOWN_OPTIONS = 15


def offered(choices: list[Choice]) -> str:
    """Choices as numbered lines, the first SHOWN_OPTIONS of them."""
    lines = [f"  [{number}] {choice.label}" for number, choice in enumerate(choices, 1)]
    more = len(lines) - SHOWN_OPTIONS
    return "\n".join(lines[:SHOWN_OPTIONS]) + (
        f"\n  … {more} more: type part of a name to narrow the list" if more > 0 else ""
    )


def form_errors(errors: dict[str, str], view: dict) -> str:
    """A form's refusal as text, each error under its input's label."""
    labels = {
        block.get("block_id"): text_of(block.get("label") or {}) for block in view.get("blocks", [])
    }
    return "\n".join(f"{labels.get(block, block)}: {error}" for block, error in errors.items())
