"""Finding one of a partner's customers from what staff typed (/subscription, /order, the order
form's search): by domain or name, with its subscriptions, or choices and suggestions when the
text is not enough."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import MAX_QUERY_LENGTH, clean_query, fold, like_pattern
from storage import customers
from storage import subscriptions as subscription_rows
from storage.models import Customer, Subscription

MAX_CHOICES = 100
MAX_SUGGESTIONS = 5
SUGGESTION_CUTOFF = 70


@dataclass(frozen=True)
class Usage:
    """Nothing was typed."""


@dataclass(frozen=True)
class TooLong:
    length: int


@dataclass(frozen=True)
class Found:
    customer: Customer
    subscriptions: list[Subscription]


@dataclass(frozen=True)
class Choices:
    query: str
    customers: list[Customer]
    total: int


@dataclass(frozen=True)
class NoMatch:
    query: str
    suggestions: list[Customer]


Lookup = Usage | TooLong | Found | Choices | NoMatch


@dataclass
class NameIndex:
    """The big partners' customer ids, folded names and domains, kept for `ttl` seconds, so that
    a typo does not read thousands of rows again (the biggest partner's 6,833 took 50–68 ms a
    typo). Suggestions may therefore miss a customer added within the last `ttl` (it is found by
    its name or domain all the same), and a renamed one is suggested by its old name for as long,
    but shown as it is now; they never offer another partner's customer (those are read by id
    within the partner). Smaller partners are read each time, as it costs little."""

    ttl: float = 60.0
    min_size: int = 1000  # partners with fewer customers are not kept
    max_partners: int = 16  # the most recently used are kept; memory stays bounded
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict = field(default_factory=OrderedDict)

    async def candidates(
        self, session: AsyncSession, partner_id: int
    ) -> list[tuple[int, str, str]]:
        """A partner's (id, folded name, domain) for suggestions, kept or read now."""
        now = self.clock()
        kept = self._entries.get(partner_id)
        if kept is not None and now - kept[0] < self.ttl:
            self._entries.move_to_end(partner_id)
            return kept[1]
        rows = await customers.ids_names_and_domains(session=session, partner_id=partner_id)
        self._entries.pop(partner_id, None)
        if len(rows) >= self.min_size:
            self._entries[partner_id] = (now, rows)
            while len(self._entries) > self.max_partners:
                self._entries.popitem(last=False)
        return rows


def suggest(query: str, candidates: list[tuple[int, str, str]], *, limit: int) -> list[int]:
    """Picks the customers whose name or domain looks most like the query (fuzzy), best first.
    Candidates are (id, folded name, domain), as stored: folding thousands of names again on
    every look-up would cost more than the matching."""
    folded = fold(query)
    names = [name_key for _, name_key, _ in candidates]
    domains = [domain for _, _, domain in candidates]
    scores: dict[int, float] = {}
    for choices in (names, domains):
        for _, score, index in process.extract(
            folded, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=SUGGESTION_CUTOFF
        ):
            scores[index] = max(score, scores.get(index, 0))
    best = sorted(scores, key=lambda index: (-scores[index], names[index]))[:limit]
    return [candidates[index][0] for index in best]


async def look_up(
    session: AsyncSession, *, partner_id: int, text: str, names: NameIndex | None = None
) -> Lookup:
    """Finds what `/subscription <text>` is about, among one partner's customers only; the
    suggestions for a typo come from `names` when given."""
    query = clean_query(text)
    if not query:
        return Usage()
    if len(query) > MAX_QUERY_LENGTH:
        return TooLong(len(query))
    folded = fold(query)
    matches = await customers.find(
        session=session,
        partner_id=partner_id,
        folded=folded,
        pattern=like_pattern(folded),
        limit=MAX_CHOICES,
    )
    if matches.total == 1:
        return await found(session, matches.customers[0])
    if matches.total > 1:
        return Choices(query, matches.customers, matches.total)
    if names is None:
        candidates = await customers.ids_names_and_domains(session=session, partner_id=partner_id)
    else:
        candidates = await names.candidates(session, partner_id)
    picked = suggest(query, candidates, limit=MAX_SUGGESTIONS)
    by_id = await customers.get_many(session=session, partner_id=partner_id, customer_ids=picked)
    return NoMatch(query, [by_id[i] for i in picked if i in by_id])


async def look_up_customer(
    session: AsyncSession, *, partner_id: int, customer_id: int
) -> Found | None:
    """Answers for a customer picked from a list; None when it is not this partner's."""
    customer = await customers.get(session=session, partner_id=partner_id, customer_id=customer_id)
    return await found(session, customer) if customer else None


async def found(session: AsyncSession, customer: Customer) -> Found:
    rows = await subscription_rows.of_customer(session=session, customer_id=customer.id)
    return Found(customer, rows)


async def customers_matching(
    session: AsyncSession, *, partner_id: int, text: str, limit: int
) -> list[Customer]:
    """The partner's customers whose name or domain contains what was typed in the form."""
    folded = fold(clean_query(text))
    if not folded or len(folded) > MAX_QUERY_LENGTH:
        return []
    matches = await customers.find(
        session=session,
        partner_id=partner_id,
        folded=folded,
        pattern=like_pattern(folded),
        limit=limit,
    )
    return matches.customers
