"""Fixtures of the order tests on the database: a partner in Berlin, one of its customers, and the
services the commands are given."""

from __future__ import annotations

import pytest

from bot.app import build_services
from bot.settings import load_settings
from tests.utils.factories import make_customer, make_partner


@pytest.fixture
async def partner(sessions):
    return await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")


@pytest.fixture
async def customer(sessions, partner):
    return await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")


@pytest.fixture
def services(engine, database_url):
    settings = load_settings(database_url=database_url, secret_key="x" * 20, incident_feed_url=None)
    return build_services(settings, engine=engine)
