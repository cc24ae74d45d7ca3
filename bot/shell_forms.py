"""Forms (Slack's modals) in the local shell: shown as text and filled in by typing, one input
after the other — a line of text, several lines ended by `.`, a pick from a menu, a channel id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from devtools.text import Choice, render, text_of

TEXT_INPUT = "plain_text_input"
MENUS = ("external_select", "static_select")
CHANNELS = ("conversations_select", "channels_select")
END_OF_TEXT = "."
SHOWN_OPTIONS = 15


@dataclass(frozen=True)
class Field:
    """One input of a form."""

    block: dict

    @property
    def element(self) -> dict:
        return self.block.get("element") or {}

    @property
    def kind(self) -> str:
        return self.element.get("type", "")

    @property
    def block_id(self) -> str:
        return self.block.get("block_id", "")

    @property
    def label(self) -> str:
        return text_of(self.block.get("label") or {})

    @property
    def multiline(self) -> bool:
        return self.kind == TEXT_INPUT and bool(self.element.get("multiline"))

    @property
    def preset(self) -> dict | None:
        """The input's state when left as it is: its initial value, or None."""
        element = self.element
        if element.get("initial_value"):
            return {"type": self.kind, "value": element["initial_value"]}
        if element.get("initial_option"):
            return {"type": self.kind, "selected_option": element["initial_option"]}
        if element.get("initial_conversation") or element.get("initial_channel"):
            conversation = element.get("initial_conversation") or element["initial_channel"]
            return {"type": self.kind, "selected_conversation": conversation}
        return None

    def typed(self, text: str) -> dict:
        """The input's state once something is typed into it."""
        if self.kind in CHANNELS:
            return {"type": self.kind, "selected_conversation": text.strip().upper()}
        return {"type": self.kind, "value": text}

    def picked(self, choice: Choice) -> dict:
        option = {"text": {"type": "plain_text", "text": choice.label}, "value": choice.value}
        return {"type": self.kind, "selected_option": option}

    def static_choices(self) -> list[Choice]:
        options = list(self.element.get("options", []))
        for group in self.element.get("option_groups", []):
            options += group.get("options", [])
        return as_choices(options, self)


@dataclass
class Form:
    """An open form, the input being filled in and what has been given so far."""

    view: dict
    fields: list[Field]
    index: int = 0
    values: dict[str, dict] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # of a text of several lines

    @property
    def current(self) -> Field:
        return self.fields[self.index]

    def give(self, state: dict | None) -> bool:
        """Records the current input's state (None: left empty); tells whether it was the last."""
        if state is not None:
            self.values[self.current.block_id] = state
        self.index += 1
        self.lines = []
        return self.index >= len(self.fields)


def fillable(view: dict) -> Form | None:
    """The form the shell can fill in: one whose inputs are texts, menus or channels."""
    inputs = [Field(block) for block in view.get("blocks", []) if block.get("type") == "input"]
    if not inputs or any(f.kind not in (TEXT_INPUT, *MENUS, *CHANNELS) for f in inputs):
        return None
    return Form(view, inputs)


def shown(view: dict) -> str:
    """A view as text: its title underlined, then its blocks."""
    title = text_of(view.get("title") or {})
    body, _ = render(view.get("blocks", []))
    return f"{title}\n{'=' * len(title)}\n{body}".rstrip()


def prompt(form: Form | None, view: dict) -> str:
    """What the reader types next to fill in a form, or that the shell cannot."""
    if form is None:
        if not any(block.get("type") == "input" for block in view.get("blocks", [])):
            return ""
        return "(The shell cannot fill in this form; in Slack it opens as a dialog.)"
    current = form.current
    step = f"({form.index + 1} of {len(form.fields)}) " if len(form.fields) > 1 else ""
    if current.preset is not None:
        keep = "; an empty line keeps what it holds"
    elif current.block.get("optional"):
        keep = "; an empty line leaves it empty"
    else:
        keep = ""
    if current.multiline:
        how = f"type it (as many lines as you need), then a line holding only `{END_OF_TEXT}`"
    elif current.kind in MENUS:
        how = "pick one by its number" + (
            ", or type part of a name to find it" if current.kind == "external_select" else ""
        )
    elif current.kind in CHANNELS:
        how = "type the channel's id (C…)"
    else:
        how = "type it on one line"
    return f"{step}“{current.label}”: {how}{keep}; `cancel` closes the form."


def menu_choices(answer: str, current: Field) -> list[Choice]:
    """The options an options load answered, as choices of the current input."""
    loaded = json.loads(answer) if answer.startswith("{") else {}
    options = list(loaded.get("options", []))
    for group in loaded.get("option_groups", []):
        options += group.get("options", [])
    return as_choices(options, current)


def as_choices(options: list[dict], current: Field) -> list[Choice]:
    action_id = current.element.get("action_id", "")
    return [
        Choice(text_of(option.get("text") or {}), action_id, current.block_id, option["value"],
               "form_option")
        for option in options
    ]  # fmt: skip


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
