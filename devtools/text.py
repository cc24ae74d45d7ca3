"""Block Kit as plain text, for the local shell: what a person would read in Slack."""

from __future__ import annotations

import re
from dataclasses import dataclass

MENTION = re.compile(r"<([^<>|]+)\|([^<>]+)>|<([^<>]+)>")


@dataclass(frozen=True)
class Choice:
    """Something a reader can click: a button, or one option of a select menu."""

    label: str
    action_id: str
    block_id: str
    value: str
    kind: str  # "button" | "static_select" | "form_option" (an option of a form's menu)
    channel: str = ""  # where the message offering it was posted ("" for an answer to you)


def unescape(text: str) -> str:
    """Turns Slack's escapes back into the characters a reader sees."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def readable(text: str) -> str:
    """Shows links and mentions as their labels, then unescapes."""
    text = MENTION.sub(lambda m: m.group(2) or m.group(3) or "", text)
    return unescape(text)


def text_of(element: dict) -> str:
    """The text a reader sees in a text object, or in an element that holds one."""
    if element.get("type") == "mrkdwn":
        return readable(element.get("text", ""))
    if element.get("type") == "plain_text":
        return element.get("text", "")
    return text_of(element["text"]) if isinstance(element.get("text"), dict) else ""


def render(blocks: list[dict], fallback: str = "", *, start: int = 1) -> tuple[str, list[Choice]]:
    """Renders a message as paragraphs of text, numbering the choices it offers from `start`."""
    paragraphs: list[str] = []
    choices: list[Choice] = []

    def offer(choice: Choice) -> str:
        choices.append(choice)
        return f"  [{start + len(choices) - 1}] {choice.label}"

    for block in blocks or []:
        kind = block.get("type")
        if kind == "header":
            title = text_of(block)
            paragraphs.append(f"{title}\n{'=' * len(title)}")
        elif kind == "section":
            texts = [text_of(block["text"])] if "text" in block else []
            texts += [text_of(field) for field in block.get("fields", [])]
            paragraphs.append("\n".join(texts))
        elif kind == "context":
            paragraphs.append(" ".join(text_of(e) for e in block.get("elements", [])))
        elif kind == "divider":
            paragraphs.append("-" * 40)
        elif kind == "actions":
            lines = []
            block_id = block.get("block_id", "")
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    lines.append(
                        offer(Choice(text_of(element), element["action_id"], block_id,
                                     element.get("value", ""), "button"))
                    )  # fmt: skip
                elif element.get("type") == "static_select":
                    for option in element.get("options", []):
                        lines.append(
                            offer(Choice(text_of(option), element["action_id"], block_id,
                                         option["value"], "static_select"))
                        )  # fmt: skip
            paragraphs.append("\n".join(lines))
        elif kind == "input":
            paragraphs.append(input_text(block))
    if not paragraphs and fallback:
        paragraphs.append(readable(fallback))
    return "\n\n".join(paragraphs), choices


def input_text(block: dict) -> str:
    """A form's input as a reader sees it: its label, then what it holds or asks for."""
    element = block.get("element") or {}
    shown = element.get("initial_value") or text_of(element.get("placeholder") or {})
    optional = " (optional)" if block.get("optional") else ""
    return f"{text_of(block.get('label') or {})}{optional}:" + (f"\n{shown}" if shown else "")
