"""Block Kit primitives every feature's messages share: Slack's size limits, mrkdwn escaping,
cutting and packing text to fit, and the basic blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Slack's documented limits for messages, views and the blocks in them. Lengths are counted as
# Slack's clients count them, in UTF-16 code units (an emoji outside the BMP is two), which is
# never less than Python's count of code points.
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_ELEMENT_TEXT = 3000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
# chat.postMessage truncates `text` over 40,000 characters and recommends at most 4,000; the
# notification text is kept well inside both.
MAX_MESSAGE_TEXT = 40_000
MAX_FALLBACK_TEXT = 3000
# Slack answers msg_blocks_too_long for a message whose blocks hold, together, a little over
# 13,000 characters of text (undocumented; reported at ~13,200 with sections, less with other
# blocks beside them). The texts of each message's blocks stay under this.
MAX_MESSAGE_BLOCKS_LENGTH = 12_000

# Characters that show nothing but change what is shown: direction overrides and isolates
# (`Acme\u202eexe.fdp` reads "Acmepdf.exe"), zero-width spaces, byte-order marks, tags,
# controls other than tab and line break, and lone surrogates. The joiners U+200C/U+200D stay:
# scripts and emoji sequences need them. (Unicode 14 category Cf; tests check it against the
# running Python's Unicode tables.)
INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
LINE_BREAKS = re.compile("\r\n|[\r\u2028\u0085]")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Message:
    """One Slack message: blocks, and the plain text that notifications and screen readers use."""

    text: str
    blocks: list[dict]


def messages(text: str, blocks: list[dict]) -> list[Message]:
    """Splits blocks into as many messages as Slack's limits need (50 blocks, and the length of
    a message's blocks together), each with the notification text."""
    return [Message(shorten(text, MAX_FALLBACK_TEXT), chunk) for chunk in split_blocks(blocks)]


def visible(text: str) -> str:
    """Text without the characters that show nothing but can change what is shown (see
    INVISIBLE); every kind of line break becomes `\\n`."""
    return INVISIBLE.sub("", LINE_BREAKS.sub("\n", text.replace("\u2029", "\n\n")))


def escape(text: str) -> str:
    """Makes stored or typed text safe for Slack mrkdwn: `<!channel>` or `<@U1>` cannot ping
    anyone, and invisible direction or zero-width characters cannot disguise it."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_length(text: str) -> int:
    """The length Slack counts: UTF-16 code units (counted by the codec, not a Python loop over
    every character: every block of every answer is measured)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def prefix_within(text: str, limit: int) -> str:
    """The longest start of text whose Slack length is at most `limit` (e.g. an input's initial
    value, where an ellipsis would be saved with it)."""
    units = 0
    for index, c in enumerate(text):
        units += 2 if ord(c) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


# Where a cut reads well, best first: between paragraphs, lines, sentences, words (each pattern
# with whether the cut goes before or after what it matches). A boundary is used only if it keeps
# most of what fits: a paragraph break near the start would waste the rest.
BOUNDARIES = (
    (re.compile(r"\n[^\S\n]*\n"), "before", 0.5),
    (re.compile(r"\n"), "before", 0.6),
    (re.compile(r"[.!?…][)\]\"'”’]*(?=\s)"), "after", 0.6),
    (re.compile(r"\s"), "before", 0.6),
)
OPEN_ENTITY = re.compile(r"&[#a-zA-Z0-9]{0,8}$")


def _safe_point(window: str, point: int) -> int:
    """Moves a cut back so that it never splits an entity (`&amp;`), a link or mention (`<…>`),
    a combining mark from its letter or an emoji sequence."""
    entity = OPEN_ENTITY.search(window[:point])
    if entity:
        point = entity.start()
    opened, closed = window.rfind("<", 0, point), window.rfind(">", 0, point)
    if opened > closed:
        point = opened
    while 0 < point < len(window) and (
        window[point] in "\u200c\u200d\ufe0e\ufe0f"
        or window[point - 1] == "\u200d"
        or "\u0300" <= window[point] <= "\u036f"
        or "\U0001f3fb" <= window[point] <= "\U0001f3ff"
    ):
        point -= 1
    return point


def _break_point(text: str, room: int) -> int:
    """Where to cut text that is longer than `room` (Slack's count) so that the first part fits
    and reads well."""
    fit = len(prefix_within(text, room))
    # One character more: a boundary just after what fits (a space) is a clean cut too.
    window = text[: fit + 1]
    for boundary, side, keep in BOUNDARIES:
        points = [m.start() if side == "before" else m.end() for m in boundary.finditer(window)]
        points = [p for p in points if keep * fit <= p <= fit]
        if points:
            return points[-1]
    return _safe_point(window, fit) or fit


def cut_where_it_reads_well(text: str, limit: int, *, mark: str = ELLIPSIS) -> str:
    """Cuts text to at most `limit` (Slack's count) at the best boundary that keeps most of it
    (paragraph, line, sentence, word, else anywhere but inside an entity or link), ending the
    cut with `mark`."""
    if slack_length(text) <= limit:
        return text
    point = _break_point(text, limit - slack_length(mark))
    return text[:point].rstrip() + mark


def split_where_it_reads_well(text: str, limit: int) -> list[str]:
    """Splits text into pieces of at most `limit` (Slack's count), each cut where it reads well;
    together they hold all of it."""
    pieces: list[str] = []
    rest = text.strip()
    while slack_length(rest) > limit:
        point = _break_point(rest, limit) or len(prefix_within(rest, limit)) or 1
        pieces.append(rest[:point].rstrip())
        rest = rest[point:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def shorten(text: str, limit: int) -> str:
    """Cuts text to at most `limit` characters where it reads well, marking the cut with an
    ellipsis."""
    return cut_where_it_reads_well(text, limit)


def pack(
    texts: list[str],
    *,
    limit: int = MAX_SECTION_TEXT,
    separator: str = "\n\n",
    whole: bool = False,
) -> list[str]:
    """Joins texts into as few chunks as fit the limit, never splitting one text that fits; a
    text longer than the limit is shortened on its own, or with `whole` split into pieces where
    it reads well, so none of it is lost."""
    chunks: list[str] = []
    current = ""
    for text in texts:
        pieces = split_where_it_reads_well(text, limit) if whole else [shorten(text, limit)]
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if slack_length(candidate) <= limit:
                current = candidate
            else:
                if current:
                    chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def sections(text: str, *, separator: str = "\n\n") -> list[dict]:
    """A long mrkdwn text as as many sections as it needs, split between paragraphs where it
    can: all of it is kept."""
    chunks = pack(text.split(separator), separator=separator, whole=True)
    return [section(chunk) for chunk in chunks]


def blocks_length(node: dict | list) -> int:
    """The length of every text object's text in blocks (what msg_blocks_too_long measures,
    near enough)."""
    if isinstance(node, list):
        return sum(blocks_length(item) for item in node)
    if not isinstance(node, dict):
        return 0
    own = node.get("text") if node.get("type") in ("mrkdwn", "plain_text") else None
    return (slack_length(own) if isinstance(own, str) else 0) + sum(
        blocks_length(value) for value in node.values() if isinstance(value, dict | list)
    )


def split_blocks(
    blocks: list[dict], *, limit: int = MAX_BLOCKS, length: int = MAX_MESSAGE_BLOCKS_LENGTH
) -> list[list[dict]]:
    """Splits blocks into messages of at most `limit` blocks and `length` characters each."""
    chunks: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    for block in blocks:
        block_size = blocks_length(block)
        if current and (len(current) >= limit or size + block_size > length):
            chunks.append(current)
            current, size = [], 0
        current.append(block)
        size += block_size
    if current:
        chunks.append(current)
    return chunks or [[]]


def plain(text: str) -> dict:
    """A plain_text object: Slack parses nothing in it, but invisible characters would still
    disguise it, and it may not be empty."""
    return {"type": "plain_text", "text": visible(text).strip() or ELLIPSIS, "emoji": True}


def header(text: str) -> dict:
    # Header text is plain_text: Slack never parses mentions in it.
    return {"type": "header", "text": plain(shorten(visible(text), MAX_HEADER_TEXT))}


def section(text: str) -> dict:
    """A mrkdwn section; text over Slack's limit is cut where it reads well (builders that must
    keep all of a long text use `sections`)."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": shorten(text, MAX_SECTION_TEXT)},
    }


def context(text: str) -> dict:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": shorten(text, MAX_CONTEXT_ELEMENT_TEXT)}],
    }


def button(label: str, action_id: str, value: str) -> dict:
    """A button whose label may come from data (cut to fit, invisible characters gone)."""
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain(shorten(visible(label), MAX_BUTTON_TEXT)),
        "value": value,
    }


def input_block(
    block_id: str, label: str, element: dict, *, hint: str = "", optional: bool = False
) -> dict:
    """An input block of a form: its label, its element, a hint under it when given."""
    block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def divider() -> dict:
    return {"type": "divider"}


def plural(count: int, word: str, words: str | None = None) -> str:
    """Writes `1 seat`, `2 seats`, `1,040 customers`."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"
