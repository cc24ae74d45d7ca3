"""Fixtures of the order tests on the database: a partner in Berlin and one of its customers."""

from __future__ import annotations

import pytest

from tests.utils.factories import make_customer, make_partner


@pytest.fixture
async def partner(sessions):
    return await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")


@pytest.fixture
async def customer(sessions, partner):
    return await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
