"""Block Kit primitives every feature's messages share: Slack's size limits, mrkdwn escaping,
cutting and packing text to fit, and the basic blocks."""

from __future__ import annotations

from dataclasses import dataclass

# Slack's documented limits for messages and the blocks in them.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_ELEMENT_TEXT = 3000
MAX_FALLBACK_TEXT = 3000


@dataclass(frozen=True)
class Message:
    """One Slack message: blocks, and the plain text that notifications and screen readers use."""

    text: str
    blocks: list[dict]


def messages(text: str, blocks: list[dict]) -> list[Message]:
    """Splits blocks into as many messages as Slack's block limit needs."""
    return [Message(shorten(text, MAX_FALLBACK_TEXT), chunk) for chunk in split_blocks(blocks)]


def escape(text: str) -> str:
    """Escapes stored text for Slack mrkdwn, so that `<!channel>` or `<@U1>` cannot ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """Cuts text to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pack(texts: list[str], *, limit: int = MAX_SECTION_TEXT, separator: str = "\n\n") -> list[str]:
    """Joins texts into as few chunks as fit the limit, never splitting one text (a text longer
    than the limit is shortened on its own)."""
    chunks: list[str] = []
    current = ""
    for text in texts:
        text = shorten(text, limit)
        candidate = f"{current}{separator}{text}" if current else text
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = text
    if current:
        chunks.append(current)
    return chunks


def split_blocks(blocks: list[dict], *, limit: int = MAX_BLOCKS) -> list[list[dict]]:
    """Splits blocks into messages of at most `limit` blocks each."""
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def header(text: str) -> dict:
    # Header text is plain_text: Slack never parses mentions in it.
    return {"type": "header", "text": plain(shorten(text, MAX_HEADER_TEXT))}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": shorten(text, MAX_CONTEXT_ELEMENT_TEXT)}],
    }


def divider() -> dict:
    return {"type": "divider"}


def plural(count: int, word: str, words: str | None = None) -> str:
    """Writes `1 seat`, `2 seats`, `1,040 customers`."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"
