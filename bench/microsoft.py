"""The Microsoft side of bench/partner_center.py, run by it as a child process so that its CPU is
not the bot's: a local Partner Center and a local Graph (devtools/), each with its Entra, over
TLS on loopback, holding the customers and subscriptions of a database made by bench/gen.py as
Partner Center would hold them, and each customer's tenant as Graph would.

    python bench/microsoft.py --database-url URL --partners N --latency S --limit N --throttled F

Every request waits --latency seconds; Partner Center refuses each partner tenant's calls past
--limit a minute (429 with Retry-After); Graph answers --throttled of the tenants' requests 429.
A control server on http://127.0.0.1:$PORT answers:

- `GET /healthz`: where the two services are and the CA file that trusts them (JSON);
- `GET /stats`: the calls each has answered so far, by kind, and its 429s;
- `POST /change?share=F`: changes F of the subscriptions (a seat more; a tenth of them deleted),
  as customers and Microsoft do between two syncs; answers the rows changed, by database id,
  with their seats and status before;
- `POST /incident?id=ID&listed=F`: a service health issue listed in F of the tenants (drawn at
  random); 2% of all tenants never consented to their partner's app."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
from datetime import date
from pathlib import Path

from aiohttp import web
from sqlalchemy import text

from devtools.local_graph import LocalGraph
from devtools.local_partner_center import Account, LocalPartnerCenter, collection
from devtools.local_partner_center_orders import pc_error
from devtools.microsoft_limits import CallLimit
from devtools.tls import local_tls
from storage.db import create_engine

# Partner Center's statuses of the bot's.
STATUSES = {"active": "active", "trial": "active", "suspended": "suspended", "cancelled": "deleted"}
CONSENTED = 0.98  # share of customer tenants whose admin consented to their partner's app


def partner_tenant(partner_id: int) -> str:
    return f"{partner_id:08x}-1111-4000-8000-{partner_id:012x}"


def partner_app(partner_id: int) -> str:
    return f"{partner_id:08x}-2222-4000-8000-{partner_id:012x}"


def partner_secret(partner_id: int) -> str:
    return f"bench~secret~{partner_id:08d}~0123456789abcdef"


def customer_tenant(customer_id: int) -> str:
    return f"{customer_id:08x}-0000-4000-8000-{customer_id:012x}"


def subscription_guid(subscription_id: int) -> str:
    return f"{subscription_id:08x}-3333-4000-8000-{subscription_id:012x}"


def stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


class GeneratedPartnerCenter(LocalPartnerCenter):
    """The local Partner Center, its subscriptions kept as rows and shaped as Partner Center's
    on each request (a million customers' subscriptions as dictionaries would not fit)."""

    def __init__(self, plan_names: dict[str, str]) -> None:
        super().__init__()
        self.plan_names = plan_names
        # customer tenant: (owning partner tenant, [[db id, plan, seats, cycle, start, renewal,
        # status, sold by the partner itself], …])
        self.rows: dict[str, tuple[str, list[list]]] = {}

    async def _subscriptions(self, request: web.Request) -> web.Response:
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        customer = request.match_info["customer"]
        owner, rows = self.rows.get(customer, ("", []))
        if owner != account.tenant:
            return pc_error(404, 2001, f"Customer {customer} was not found.")
        return collection([self.item(row) for row in rows], {})

    def item(self, row: list) -> dict:
        number, plan, seats, cycle, start, renewal, status, own = row
        name = self.plan_names.get(plan, plan)
        return {
            "id": subscription_guid(number),
            "offerId": f"{plan}-LEGACY-OFFER",
            "offerName": name,
            "friendlyName": name,
            "quantity": seats,
            "unitType": "Licenses",
            "creationDate": stamp(start),
            "effectiveStartDate": stamp(start),
            "commitmentEndDate": stamp(renewal),
            "status": STATUSES.get(status, "suspended"),
            "autoRenewEnabled": True,
            "isTrial": status == "trial",
            "billingType": "license",
            "billingCycle": cycle,
            "termDuration": "P1Y" if cycle == "annual" else "P1M",
            # The partner's own sale, or an indirect reseller the bot does not know (as stored).
            "partnerId": "" if own else "9999999",
            "contractType": "subscription",
            "attributes": {"objectType": "Subscription"},
        }


class Microsoft:
    def __init__(self, args: argparse.Namespace, plan_names: dict[str, str]) -> None:
        self.args = args
        self.pc = GeneratedPartnerCenter(plan_names)
        self.graph = LocalGraph()
        self.pc.latency = self.graph.latency = args.latency
        if args.limit:
            self.pc.limit = CallLimit(per_minute=args.limit, burst=args.limit / 10)
        self.graph.throttled_share = args.throttled
        self.openid = {"partner_center": 0, "graph": 0}
        for name, entra in (("partner_center", self.pc.entra), ("graph", self.graph.entra)):
            entra.openid = self.counted(name, entra.openid)
        self.tenants: list[str] = []
        self.random = random.Random(args.seed)

    def counted(self, name: str, handler):
        async def openid(request: web.Request) -> web.Response:
            self.openid[name] += 1
            return await handler(request)

        return openid

    async def load(self) -> None:
        engine = create_engine(self.args.database_url)
        try:
            async with engine.connect() as connection:
                partners = (
                    await connection.execute(
                        text("SELECT id FROM partner ORDER BY id LIMIT :n"),
                        {"n": self.args.partners},
                    )
                ).scalars().all()  # fmt: skip
                last = partners[-1] if partners else 0
                accounts: dict[int, Account] = {}
                for partner_id in partners:
                    tenant, app = partner_tenant(partner_id), partner_app(partner_id)
                    accounts[partner_id] = self.pc.account(tenant, app, partner_secret(partner_id))
                    self.graph.entra.register(
                        tenant, app, secret=partner_secret(partner_id), roles=set()
                    )
                customers = await connection.execute(
                    text(
                        "SELECT id, partner_id, name, domain FROM customer "
                        "WHERE partner_id <= :last ORDER BY id"
                    ),
                    {"last": last},
                )
                consents = self.random
                for customer_id, partner_id, name, domain in customers:
                    tenant = customer_tenant(customer_id)
                    account = accounts[partner_id]
                    account.add_customer(tenant, name, domain)
                    self.pc.rows[tenant] = (account.tenant, [])
                    self.tenants.append(tenant)
                    if consents.random() < CONSENTED:
                        self.graph.entra.consent(partner_app(partner_id), tenant)
                    else:
                        self.graph.entra.add_tenant(tenant)
                subscriptions = await connection.stream(
                    text(
                        "SELECT s.id, s.customer_id, s.plan_code, s.seats, s.billing_cycle, "
                        "s.start_date, s.renewal_date, s.status, "
                        "s.partner_of_record_id = s.partner_id FROM subscription s "
                        "WHERE s.partner_id <= :last ORDER BY s.id"
                    ),
                    {"last": last},
                )
                async for number, customer_id, *fields, own in subscriptions:
                    self.pc.rows[customer_tenant(customer_id)][1].append(
                        [number, *fields, bool(own)]
                    )
        finally:
            await engine.dispose()

    # The control server

    def stats(self, _request: web.Request) -> web.Response:
        pc_calls = self.pc.requests
        tenant_calls = self.graph.tenant_requests
        return web.json_response(
            {
                "partner_center_calls": len(pc_calls),
                "partner_center_429s": self.pc.limit.refused if self.pc.limit else 0,
                "partner_center_tokens": len(self.pc.entra.token_requests),
                "partner_center_openid": self.openid["partner_center"],
                "graph_calls": len(tenant_calls),
                "graph_429s": sum(1 for _, _, status in tenant_calls if status == 429),
                "graph_tokens": len(self.graph.entra.token_requests),
                "graph_openid": self.openid["graph"],
            }
        )

    def change(self, request: web.Request) -> web.Response:
        share = float(request.query.get("share", "0.01"))
        changed = []
        for _, rows in self.pc.rows.values():
            for row in rows:
                if self.random.random() < share:
                    changed.append([row[0], row[2], row[6]])
                    if self.random.random() < 0.1:
                        row[6] = "cancelled"
                    else:
                        row[2] += 1
        return web.json_response({"rows": changed})

    def incident(self, request: web.Request) -> web.Response:
        issue_id, listed = request.query["id"], float(request.query.get("listed", "0.3"))
        service = request.query.get("service", "Exchange Online")
        self.graph.put(
            {
                "id": issue_id,
                "title": "Users can't join meetings",
                "service": service,
                "status": "serviceDegradation",
                "classification": "incident",
                "startDateTime": "2026-11-30T08:00:00Z",
                "lastModifiedDateTime": "2026-11-30T08:00:00Z",
                "isResolved": False,
                "posts": [],
            }
        )
        count = 0
        for tenant in self.tenants:
            if self.random.random() < listed:
                self.graph.list_in_tenant(tenant, issue_id)
                count += 1
        return web.json_response({"listed": count})


async def serve(args: argparse.Namespace) -> None:
    from bot.catalogue import load_catalogue

    plans = {code: plan.name for code, plan in load_catalogue(None).plans.items()}
    microsoft = Microsoft(args, plans)
    await microsoft.load()
    folder = Path(tempfile.mkdtemp(prefix="bench-microsoft-"))
    tls = local_tls(folder)
    await microsoft.pc.start(tls.server, ca_file=tls.ca_file)
    await microsoft.graph.start(tls.server)
    app = web.Application()
    where = {"partner_center": microsoft.pc.url, "graph": microsoft.graph.base_url,
             "ca_file": str(tls.ca_file), "tenants": len(microsoft.tenants)}  # fmt: skip
    app.router.add_get("/healthz", lambda _: web.json_response(where))
    app.router.add_get("/stats", microsoft.stats)
    app.router.add_post("/change", microsoft.change)
    app.router.add_post("/incident", microsoft.incident)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["PORT"])).start()
    print(json.dumps(where), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    root = argparse.ArgumentParser(prog="python bench/microsoft.py")
    root.add_argument("--database-url", required=True)
    root.add_argument("--partners", type=int, required=True)
    root.add_argument("--latency", type=float, default=0.05)
    root.add_argument("--limit", type=float, default=500)
    root.add_argument("--throttled", type=float, default=0.01)
    root.add_argument("--seed", type=int, default=2026)
    asyncio.run(serve(root.parse_args()))


if __name__ == "__main__":
    main()
