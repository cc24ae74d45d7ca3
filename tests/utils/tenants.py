"""A partner connected to Partner Center whose ten customers' tenants a local Graph answers
for (tests of the per-tenant outage checks)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.partner_center.sealing import seal, sealer
from bot.settings import Settings
from devtools.local_graph import LocalGraph
from storage.db import Sessions
from storage.models import Customer, Partner, PartnerCenterConnection
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.graph import GraphSite
from tests.utils.partner_center import KEY

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PARTNER_TENANT = "0a1b2c3d-1111-4222-8333-444455556666"
APP_ID = "8d2a2f29-0b1c-4b3e-9f5a-2c7d1e4b6a90"
APP_SECRET = "Qx8Q~partner-app-secret-0123456789abcdef"
ISSUE = "EX900001"
# Ten customer tenants: 1-3 list the issue, 4-8 do not, 9 never consented to the partner's
# app, 10 consented without ServiceHealth.Read.All (Graph answers 403).
TENANTS = [f"{n:08d}-aaaa-4bbb-8ccc-{n:012d}" for n in range(1, 11)]


def tenant_check_settings(site: GraphSite) -> dict:
    """Settings asking tenants through the local Graph, signing in to its Entra, 3 at a time."""
    return {
        "partner_center_key": KEY,
        "partner_center_authority": site.graph.authority_host,
        "partner_center_ca_file": site.ca_bundle,
        "outage_tenant_graph_url": site.graph.base_url + "/v1.0",
        "outage_tenant_concurrency": 3,
        "outage_tenant_retry_budget": 30,
    }


def ten_tenants(graph: LocalGraph, issue: dict) -> None:
    """The partner's app in its tenant, consented in tenants 1-8 and (without the permission)
    10; tenant 9 exists without it; the issue listed in tenants 1-3 only."""
    entra = graph.entra
    entra.register(PARTNER_TENANT, APP_ID, secret=APP_SECRET, roles=set())
    for tenant in TENANTS[:8]:
        entra.consent(APP_ID, tenant)
    entra.add_tenant(TENANTS[8])
    entra.consent(APP_ID, TENANTS[9], roles=set())
    graph.put(issue)
    for tenant in TENANTS[:3]:
        graph.list_in_tenant(tenant, issue["id"])


async def connected_partner(sessions: Sessions, settings: Settings) -> Partner:
    """A partner connected to Partner Center with ten customers on Exchange Online: customer n
    has n × 10 seats at $5.00 and tenant TENANTS[n-1]."""
    partner = await make_partner(sessions, name="Contoso Partners")
    async with sessions() as session:
        session.add(
            PartnerCenterConnection(
                partner_id=partner.id,
                tenant_id=PARTNER_TENANT,
                client_id=APP_ID,
                sealed_secret=seal(sealer(settings.partner_center_key), APP_SECRET),
                next_sync_at=NOW,
            )
        )
        await session.commit()
    for n, tenant in enumerate(TENANTS, start=1):
        customer = await make_customer(sessions, partner, name=f"Customer {n:02d}")
        async with sessions() as session:
            stored = await session.get(Customer, customer.id)
            stored.external_id = tenant
            session.add(stored)
            await session.commit()
        await make_subscription(
            sessions, customer, plan_code="EXO", seats=n * 10, unit_price="5.00",
            start_date=date(2026, 1, 1), renewal_date=date(2027, 1, 1),
        )  # fmt: skip
    return partner
