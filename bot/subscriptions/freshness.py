"""Where /subscription's figures come from and how fresh they are: "from Partner Center, 12 min
ago", "imported 3 days ago"."""

from __future__ import annotations

from datetime import datetime

from bot.zones import ago_words

PARTNER_CENTER = "partner_center"


def freshness_words(
    sources: set[str],
    *,
    synced_at: datetime | None,
    imported_at: datetime | None,
    sync_problem: str,
    now: datetime,
) -> str:
    """One line on the origin of a customer's subscriptions (the sources of its rows)."""
    parts = []
    if PARTNER_CENTER in sources:
        when = ago_words(synced_at, now) if synced_at else "not synced yet"
        part = f"from Partner Center, {when}"
        if sync_problem:
            part += " (the last sync failed; your managers were told why)"
        parts.append(part)
    if sources - {PARTNER_CENTER}:
        parts.append(
            f"imported {ago_words(imported_at, now)}"
            if imported_at
            else "imported or ordered here (no import date on record)"
        )
    if not parts:
        return ""
    return "Figures " + "; others ".join(parts) + "."
