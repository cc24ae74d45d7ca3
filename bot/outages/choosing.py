"""Which outage staff mean: its number (`12`, `#12`), the vendor's id as every alert and
Microsoft's own messages show it (`EX123456`, any case), or nothing when only one open outage
fits what they asked."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import escape
from bot.outages import staff
from storage import outages as incident_rows
from storage.models import Incident, Partner

NUMBER = re.compile(r"#?(\d{1,12})")
# How a vendor's (or a declared outage's) id looks: letters then digits (EX123456, MO1234), or
# P<partner>-<hex>; a first word like this that names no outage is a wrong id, not text.
OUTAGE_ID = re.compile(r"[A-Za-z]{1,4}\d{3,}|P\d+-[0-9a-fA-F]{8}")
MAX_NAMED = 10


@dataclass(frozen=True)
class Chosen:
    incident: Incident | None = None
    rest: str = ""  # what followed the id (all of it when the id was left out)
    problem: str = ""


async def named_outage(
    session: AsyncSession, *, partner: Partner, word: str
) -> Incident | None | str:
    """The visible outage a word names; None when the word is no id; the problem when it is
    one that names no outage of this partner."""
    number = NUMBER.fullmatch(word)
    if number:
        found = await staff.visible_incident(session, partner=partner, incident_id=int(number[1]))
        return found or staff.not_found(int(number[1]))
    incident = await incident_rows.find_by_external_id(session=session, external_id=word)
    if incident is not None:
        visible = await staff.visible_incident(session, partner=partner, incident_id=incident.id)
        if visible is not None:
            return visible
    if OUTAGE_ID.fullmatch(word):
        return f"There is no outage {escape(word)} for your company. `/outage list` shows yours."
    return None


async def choose_outage(
    session: AsyncSession,
    *,
    partner: Partner,
    words: str,
    now: datetime,
    fits: Callable[[Incident], bool],
    example: str,
) -> Chosen:
    """The outage a command's words start with, and the rest of the words; without an id, the
    one open outage that `fits`, and all the words. `example` shows the command with its id."""
    first, _, rest = words.strip().partition(" ")
    if first:
        named = await named_outage(session, partner=partner, word=first)
        if isinstance(named, str):
            return Chosen(problem=named)
        if named is not None:
            return Chosen(named, rest.strip())
    recent = await staff.recent(session, partner=partner, now=now)
    open_ones = [incident for incident in recent if not incident.is_resolved and fits(incident)]
    if len(open_ones) == 1:
        return Chosen(open_ones[0], words.strip())
    if not open_ones:
        return Chosen(
            problem=f"Which outage? None of yours is open for this: type `{example}`, "
            "with the outage's number or the vendor's id; `/outage list` shows them."
        )
    named = ", ".join(
        f"#{incident.id} ({escape(incident.external_id)})" for incident in open_ones[:MAX_NAMED]
    )
    return Chosen(
        problem=f"Which outage? {len(open_ones)} are open: {named}. Type its number or the "
        f"vendor's id first: `{example}`."
    )
