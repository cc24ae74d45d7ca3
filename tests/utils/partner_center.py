"""A partner connected to the local Partner Center, for the sync's tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cryptography.fernet import Fernet

from bot.app import build_services
from bot.partner_center.connect import ConnectForm, connect
from bot.services import Services
from bot.settings import load_settings
from devtools.local_partner_center import Account, LocalPartnerCenter
from tests.utils.tls import local_tls

FIXTURES = Path(__file__).parent.parent / "fixtures" / "partner_center"
TENANT = "0a1b2c3d-1111-4222-8333-444455556666"
CLIENT_ID = "8d2a2f29-0b1c-4b3e-9f5a-2c7d1e4b6a90"
SECRET = "Qx8Q~not-a-real-secret-0123456789abcdefgh"
KEY = Fernet.generate_key().decode()


def fixture(name: str) -> dict:
    """A published example; Microsoft's `// …` comments removed from the .jsonc ones."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(re.sub(r"//[^\n]*", "", text) if name.endswith(".jsonc") else text)


async def start_partner_center(directory: Path) -> LocalPartnerCenter:
    """A local Partner Center on https://127.0.0.1; the bundle trusting it goes to `directory`."""
    tls = local_tls(directory)
    return await LocalPartnerCenter().start(tls.server, ca_file=tls.ca_file)


def services_for(local: LocalPartnerCenter, engine, database_url: str, **overrides) -> Services:
    settings = load_settings(
        **{
            "database_url": database_url,
            "secret_key": "x" * 20,
            "incident_feed_url": None,
            "partner_center_key": KEY,
            "partner_center_authority": local.url,
            "partner_center_api_url": local.url,
            "partner_center_ca_file": local.ca_file,
            "partner_center_retry_budget": 5,
            **overrides,
        }
    )
    return build_services(settings, engine=engine)


def subscription(
    subscription_id: str, *, offer_id: str = "CFQ7TTC0LH18:0001:CFQ7TTC0K971",
    offer_name: str = "Microsoft 365 Business Basic", quantity: int = 10,
    status: str = "active", billing_cycle: str = "annual", partner_id: str = "",
    start: str = "2026-01-15T00:00:00Z", end: str = "2027-01-14T00:00:00Z",
) -> dict:  # fmt: skip
    """A new-commerce subscription shaped as the published Business Basic example."""
    body = fixture("subscription_nce_business_basic.jsonc")
    body.update(
        id=subscription_id, offerId=offer_id, offerName=offer_name, friendlyName=offer_name,
        quantity=quantity, status=status, billingCycle=billing_cycle, partnerId=partner_id,
        effectiveStartDate=start, creationDate=start, commitmentEndDate=end,
    )  # fmt: skip
    return body


async def connected(services: Services, local: LocalPartnerCenter, partner_id: int) -> Account:
    account = local.account(TENANT, CLIENT_ID, SECRET)
    await connect(
        services,
        partner_id=partner_id,
        form=ConnectForm(TENANT, CLIENT_ID, SECRET, "4812345"),
        by="U0MANAGER",
    )
    return account
