"""The people of the local shell: names to type as @mentions, and the Slack user ids behind them.

The shell has no Slack workspace to ask, so the partner's managers and a few colleagues get
first names: `@jane` typed becomes the mention Slack would send (`<@U…|jane>`), and answers show
`@jane` where Slack would show her name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.models import Partner

MANAGER_NAMES = ("alex", "sam", "kim", "lee")  # the partner's managers, in order
COLLEAGUES = ("jane", "raj", "mia")  # staff who are not managers (yet)
TYPED_MENTION = re.compile(r"(?<![<\w])@([A-Za-z][\w.-]*)")


@dataclass(frozen=True)
class People:
    ids: dict[str, str]  # name -> Slack user id
    you: str  # the user id the shell acts as
    managers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, partner: Partner, managers: list[str], *, you: str) -> People:
        """Names the partner's managers, you and a few colleagues with local user ids."""
        ids = dict(zip(MANAGER_NAMES, managers, strict=False))
        if you not in ids.values():
            ids["you"] = you
        workspace = partner.team_id.removeprefix("T").removeprefix("E")
        for name in COLLEAGUES:
            ids.setdefault(name, f"U{workspace}{name.upper()}")
        return cls(ids, you, frozenset(managers))

    def describe(self) -> str:
        """Who can be mentioned, e.g. "People here: @alex (manager, you), @jane …"."""

        def about(name: str, user_id: str) -> str:
            notes = [note for note, holds in (("manager", user_id in self.managers),
                                              ("you", user_id == self.you)) if holds]  # fmt: skip
            return f"@{name}" + (f" ({', '.join(notes)})" if notes else "")

        return "People here (type @name): " + ", ".join(
            about(name, user_id) for name, user_id in self.ids.items()
        )

    def mentions(self, text: str) -> tuple[str, str]:
        """Turns each typed @name into the mention Slack sends; returns the text, and the first
        @name that is nobody here ("" when all are someone)."""
        unknown = [m.group(0) for m in TYPED_MENTION.finditer(text) if m.group(1).lower()
                   not in self.ids]  # fmt: skip
        if unknown:
            return text, unknown[0]
        return TYPED_MENTION.sub(
            lambda m: f"<@{self.ids[m.group(1).lower()]}|{m.group(1).lower()}>", text
        ), ""

    def named(self, text: str) -> str:
        """Shows the user ids in a text as the names people typed (`@U0DEMO001A` → `@alex`)."""
        names = {user_id: name for name, user_id in self.ids.items()}
        if not names:
            return text
        pattern = re.compile(r"@(" + "|".join(map(re.escape, names)) + r")\b")
        return pattern.sub(lambda m: f"@{names[m.group(1)]}", text)
