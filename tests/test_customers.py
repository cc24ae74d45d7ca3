"""Finding a customer despite a typo: the suggestions a look-up offers."""

from __future__ import annotations

from bot.customers import suggest

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
