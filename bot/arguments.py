"""What people type: search text made comparable, whole numbers such as ids and seats, Slack ids."""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_LENGTH = 200
# Slack sends what people type with `&`, `<` and `>` as these entities, and only these (its
# "Formatting text" guide); `&amp;` last, so a typed `&lt;` (sent `&amp;lt;`) stays `&lt;`.
SLACK_ENTITIES = re.compile("&(amp|lt|gt);")
ENTITY_CHARACTERS = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_slack(text: str) -> str:
    """Undoes Slack's escaping of typed text (`O'Brien &amp; Sons` is `O'Brien & Sons`); any
    other entity-like text is left as typed."""
    return SLACK_ENTITIES.sub(lambda match: ENTITY_CHARACTERS[match.group(1)], text)


def slash_text(text: str | None) -> str:
    """What someone typed after a slash command, as they typed it: the one place each
    command's text is read. Mentions (`<@U…>` with `should_escape`) come through unchanged."""
    return unescape_slack(text or "")


# Slack ids: a kind letter, then upper-case letters and digits, at least one digit (so a channel
# *name* such as "general" is not taken for an id).
TEAM_ID = re.compile(r"^[TE](?=[A-Z0-9]*[0-9])[A-Z0-9]{1,31}$")
CHANNEL_ID = re.compile(r"^[CGD](?=[A-Z0-9]*[0-9])[A-Z0-9]{1,31}$")
USER_ID = re.compile(r"^[UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{1,31}$")


def clean_query(text: str) -> str:
    """Turns what a person typed into text a database can compare: tabs and line breaks become
    spaces, other control characters (NUL…) and invisible format characters (zero-width space…)
    go, spaces collapse."""
    kept = "".join(
        c if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co") else ""
        for c in text
    )
    return " ".join(kept.split())


def fold(text: str) -> str:
    """Folds text for matching: case-insensitive, spaces collapsed."""
    return " ".join(text.casefold().split())


def like_pattern(text: str) -> str:
    """Returns a LIKE pattern that finds text anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def whole_number(text: str, *, digits: int = 18) -> bool:
    """Tells whether text is a plain number of ASCII digits (`²` and `٣` are digits to
    str.isdigit, but not numbers anyone typed as an id)."""
    return 0 < len(text) <= digits and text.isascii() and text.isdigit()
