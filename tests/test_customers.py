"""Finding a customer despite a typo: the suggestions a look-up offers."""

from __future__ import annotations

from bot.customers import NameIndex, NoMatch, look_up, suggest
from storage.models import Customer
from tests.utils.factories import make_customer, make_partner

CANDIDATES = [  # as stored: names folded
    (11, "contoso ltd", "contoso.onmicrosoft.com"),
    (12, "fabrikam dental", "fabrikam.onmicrosoft.com"),
    (13, "northwind traders", "northwindtraders.com"),
    (14, "adventure works", "adventure-works.com"),
    (15, "contoso pharmaceuticals", "contosopharma.onmicrosoft.com"),
    (16, "tailspin toys", "tailspintoys.com"),
    (17, "wide world importers", "wideworldimporters.com"),
]


def test_suggest_finds_a_customer_despite_a_typo_in_the_name():
    assert suggest("cntoso", CANDIDATES, limit=5)[0] == 11


def test_suggest_finds_a_customer_by_a_mistyped_domain():
    assert suggest("fabrkam.onmicrosoft.com", CANDIDATES, limit=5)[0] == 12
    assert suggest("tailspintoy.com", CANDIDATES, limit=5) == [16]


def test_suggest_ignores_letter_case():
    assert suggest("NORTHWND TRADERS", CANDIDATES, limit=5) == [13]


def test_suggest_finds_nothing_for_unrelated_text():
    assert suggest("xyzzy qwerty", CANDIDATES, limit=5) == []
    assert suggest("1234567", CANDIDATES, limit=5) == []


def test_suggest_returns_the_best_match_first():
    # "contso ltd" is one letter off "Contoso Ltd" but far from "Contoso Pharmaceuticals".
    assert suggest("contso ltd", CANDIDATES, limit=5)[0] == 11
    # A domain typo puts its own customer ahead of the other onmicrosoft.com tenants.
    found = suggest("contosopharma.onmicrosft.com", CANDIDATES, limit=5)
    assert found[0] == 15
    assert found.index(15) < found.index(11)


def test_suggest_respects_the_limit():
    assert len(suggest("cntoso", CANDIDATES, limit=5)) > 1
    assert suggest("cntoso", CANDIDATES, limit=1) == [11]


def test_suggest_returns_each_customer_once_even_when_name_and_domain_both_match():
    found = suggest("contoso", CANDIDATES, limit=5)
    assert len(found) == len(set(found))
    assert set(found) >= {11, 15}


def test_suggest_of_no_candidates_is_nothing():
    assert suggest("contoso", [], limit=5) == []


# A big partner's names kept for typo suggestions.


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def typo(sessions, partner, names: NameIndex) -> list[str]:
    async with sessions() as session:
        found = await look_up(session, partner_id=partner.id, text="Contsoo", names=names)
    assert isinstance(found, NoMatch)
    return [customer.name for customer in found.suggestions]


async def test_a_big_partners_names_are_kept_until_the_ttl_has_passed(sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="dental.example")
    clock = Clock()
    names = NameIndex(ttl=60, min_size=1, clock=clock)

    assert await typo(sessions, partner, names) == ["Contoso Dental"]
    await make_customer(sessions, partner, name="Contoso Legal", domain="legal.example")
    clock.now += 59  # kept: the new customer is not suggested yet (found by name all the same)
    assert await typo(sessions, partner, names) == ["Contoso Dental"]
    clock.now += 1
    assert sorted(await typo(sessions, partner, names)) == ["Contoso Dental", "Contoso Legal"]


async def test_a_small_partners_names_are_read_every_time(sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="dental.example")
    names = NameIndex(min_size=3, clock=Clock())

    assert await typo(sessions, partner, names) == ["Contoso Dental"]
    await make_customer(sessions, partner, name="Contoso Legal", domain="legal.example")
    assert sorted(await typo(sessions, partner, names)) == ["Contoso Dental", "Contoso Legal"]


async def test_kept_names_never_suggest_another_partners_customer(sessions):
    mine, theirs = await make_partner(sessions), await make_partner(sessions, name="Other IT")
    moved = await make_customer(sessions, mine, name="Contoso Dental", domain="dental.example")
    names = NameIndex(min_size=1, clock=Clock())
    assert await typo(sessions, mine, names) == ["Contoso Dental"]

    async with sessions() as session:  # the customer now belongs to the other partner
        customer = await session.get(Customer, moved.id)
        customer.partner_id = theirs.id
        await session.commit()

    assert await typo(sessions, mine, names) == []
    assert await typo(sessions, theirs, names) == ["Contoso Dental"]


async def test_only_the_most_recently_used_partners_are_kept(sessions):
    partners = [await make_partner(sessions, name=f"Partner {n}") for n in range(3)]
    for partner in partners:
        await make_customer(
            sessions, partner, name="Contoso Dental", domain=f"{partner.id}.example"
        )
    names = NameIndex(min_size=1, max_partners=2, clock=Clock())

    for partner in partners:
        await typo(sessions, partner, names)

    assert list(names._entries) == [partners[1].id, partners[2].id]
