"""Customer lookups in SQL: whole names and domains first, then parts, always within one partner."""

from __future__ import annotations

from bot.arguments import fold, like_pattern
from storage import customers, partners
from tests.utils.factories import make_customer, make_partner


async def find(sessions, partner, text: str, limit: int = 100):
    async with sessions() as session:
        return await customers.find(
            session=session, partner_id=partner.id, folded=fold(text),
            pattern=like_pattern(fold(text)), limit=limit,
        )  # fmt: skip


async def test_a_whole_name_or_domain_wins_over_names_that_contain_it(sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso", domain="contoso.com")
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")

    by_name = await find(sessions, partner, "  CONTOSO ")
    by_domain = await find(sessions, partner, "ContosoDental.com")
    by_part = await find(sessions, partner, "onto")

    assert by_name.exact and [c.name for c in by_name.customers] == ["Contoso"]
    assert by_domain.exact and [c.name for c in by_domain.customers] == ["Contoso Dental"]
    assert not by_part.exact and by_part.total == 2


async def test_parts_are_counted_in_full_but_listed_up_to_the_limit_by_name(sessions):
    partner = await make_partner(sessions)
    for letter in "edcba":
        await make_customer(sessions, partner, name=f"Fabrikam {letter.upper()}")

    matches = await find(sessions, partner, "fabrikam", limit=3)

    assert matches.total == 5
    assert [c.name for c in matches.customers] == ["Fabrikam A", "Fabrikam B", "Fabrikam C"]


async def test_like_wildcards_in_the_text_match_only_themselves(sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="50% Off Outlet")
    await make_customer(sessions, partner, name="500 Offices")
    await make_customer(sessions, partner, name="A_B Trading")
    await make_customer(sessions, partner, name="AXB Trading")
    await make_customer(sessions, partner, name="Back\\slash Ltd")

    assert [c.name for c in (await find(sessions, partner, "50%")).customers] == ["50% Off Outlet"]
    assert [c.name for c in (await find(sessions, partner, "a_b")).customers] == ["A_B Trading"]
    assert [c.name for c in (await find(sessions, partner, "k\\s")).customers] == [
        "Back\\slash Ltd"
    ]


async def test_another_partners_customers_are_never_found_or_counted(sessions):
    mine = await make_partner(sessions)
    theirs = await make_partner(sessions)
    await make_customer(sessions, mine, name="Contoso Mine", domain="mine.com")
    hidden = await make_customer(sessions, theirs, name="Contoso Theirs", domain="theirs.com")

    assert (await find(sessions, mine, "contoso")).total == 1
    assert (await find(sessions, mine, "theirs.com")).total == 0
    async with sessions() as session:
        names = await customers.ids_names_and_domains(session=session, partner_id=mine.id)
        assert [name_key for _, name_key, _ in names] == ["contoso mine"]
        assert (
            await customers.get(session=session, partner_id=mine.id, customer_id=hidden.id) is None
        )
        assert (
            await customers.get_many(session=session, partner_id=mine.id, customer_ids=[hidden.id])
            == {}
        )


async def test_the_shell_opens_on_the_partner_with_most_customers(sessions):
    small = await make_partner(sessions, name="Small")
    big = await make_partner(sessions, name="Big")
    await make_customer(sessions, small, name="One")
    await make_customer(sessions, big, name="Two")
    await make_customer(sessions, big, name="Three")

    async with sessions() as session:
        chosen = await partners.with_most_customers(session=session)
    assert chosen.name == "Big"
