"""A realistic, deterministic demo data set for an empty database (`python -m bot demo-data`):
10 partners with 65 to 390 customers each (1,040 in all) and their subscriptions."""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.arguments import fold
from bot.catalogue import BUILT_IN, REGIONS, Catalogue
from bot.errors import UserError
from bot.imports import CustomerRow, SubscriptionRow, customer_changes, subscription_changes
from bot.money import cents
from bot.subscriptions.rules import ACTIVE, CANCELLED, SUSPENDED, TRIAL
from bot.zones import add_months, add_years, utc_now
from storage import imports as stored
from storage import partners as stored_partners
from storage.db import Sessions
from storage.models import Partner


@dataclass(frozen=True)
class DemoPartner:
    number: int  # 1 is the biggest partner, the one the local shell opens
    name: str
    timezone: str
    home_region: str
    customer_count: int
    manager_count: int

    @property
    def team_id(self) -> str:
        return f"T0DEMO{self.number:03d}"

    def channel(self, purpose: str) -> str:
        """Returns the id of the partner's A(lerts), M(anagers) or O(rders) channel."""
        return f"C0DEMO{self.number:03d}{purpose}"

    def manager_ids(self) -> list[str]:
        return [f"U0DEMO{self.number:03d}{letter}" for letter in "AB"[: self.manager_count]]


# A long tail, as in the market: one large reseller, one mid-sized, many small ones.
DEMO_PARTNERS = (
    DemoPartner(1, "Northwind Cloud Partners", "America/Chicago", "North America", 390, 2),
    DemoPartner(2, "Fabrikam Managed IT", "Europe/London", "Europe", 109, 2),
    DemoPartner(3, "Tailspin IT Services", "Australia/Sydney", "Asia Pacific", 75, 1),
    DemoPartner(4, "Adatum Systemhaus GmbH", "Europe/Berlin", "Europe", 70, 2),
    DemoPartner(5, "Litware Soluciones", "America/Mexico_City", "Latin America", 68, 1),
    DemoPartner(6, "Proseware Networks", "America/New_York", "North America", 67, 1),
    DemoPartner(7, "Woodgrove Technology Services", "Asia/Singapore", "Asia Pacific", 66, 2),
    DemoPartner(8, "Coho Digital", "Africa/Johannesburg", "Middle East & Africa", 65, 1),
    DemoPartner(9, "Margie's IT Consulting", "America/Sao_Paulo", "Latin America", 65, 1),
    DemoPartner(10, "Gulf Cloud Services", "Asia/Dubai", "Middle East & Africa", 65, 2),
)
DEMO_TEAM_IDS = [partner.team_id for partner in DEMO_PARTNERS]

# Real customer names need escaping in Slack; the first partner shows it in every demo.
TRICKY_NAMES = ("O'Brien & Sons Plumbing", "Smith <Legal> Partners", "Müller & Töchter Bäckerei")

ZONES = {
    "North America": ("America/New_York", "America/Chicago", "America/Denver",
                      "America/Los_Angeles", "America/Toronto", "America/Vancouver"),
    "Europe": ("Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
               "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Dublin"),
    "Asia Pacific": ("Australia/Sydney", "Australia/Melbourne", "Asia/Singapore", "Asia/Tokyo",
                     "Pacific/Auckland", "Asia/Kolkata", "Asia/Hong_Kong"),
    "Latin America": ("America/Mexico_City", "America/Sao_Paulo", "America/Bogota",
                      "America/Santiago", "America/Argentina/Buenos_Aires", "America/Lima"),
    "Middle East & Africa": ("Asia/Dubai", "Africa/Johannesburg", "Africa/Lagos",
                             "Africa/Nairobi", "Asia/Riyadh", "Africa/Cairo"),
}  # fmt: skip
FIRST_NAMES = {
    "North America": ("James", "Maria", "Robert", "Jennifer", "Michael", "Emily", "David", "Sarah"),
    "Europe": ("Oliver", "Sophie", "Lukas", "Emma", "Jan", "Chloé", "Marco", "Ingrid"),
    "Asia Pacific": ("Hiroshi", "Mei", "Liam", "Priya", "Wei", "Olivia", "Arjun", "Yuki"),
    "Latin America": ("José", "Ana", "Carlos", "Lucía", "Mateo", "Camila", "João", "Fernanda"),
    "Middle East & Africa": ("Ahmed", "Fatima", "Thabo", "Amara", "Omar", "Layla", "Kwame"),
}
LAST_NAMES = {
    "North America": ("Smith", "Johnson", "Garcia", "Miller", "Davis", "Wilson", "Anderson", "Lee"),
    "Europe": ("Müller", "Dubois", "Rossi", "Jansen", "Kowalski", "Lindqvist", "Murphy", "Novak"),
    "Asia Pacific": ("Tanaka", "Chen", "Nguyen", "Sharma", "Wong", "Kim", "Patel", "Walker"),
    "Latin America": ("González", "Silva", "Pérez", "Martínez", "Santos", "Ramírez", "Torres"),
    "Middle East & Africa": ("Haddad", "Nkosi", "Okafor", "Mansour", "Mensah", "Botha", "Kamau"),
}
LEGAL_SUFFIXES = {
    "North America": ("Inc.", "LLC", "Ltd."),
    "Europe": ("Ltd", "GmbH", "B.V.", "S.A.R.L.", "AB"),
    "Asia Pacific": ("Pty Ltd", "Pte Ltd", "Ltd"),
    "Latin America": ("S.A. de C.V.", "Ltda.", "S.A."),
    "Middle East & Africa": ("LLC", "(Pty) Ltd", "FZ-LLC"),
}
MAIL_DOMAIN_ENDINGS = {
    "North America": (".com", ".us", ".ca"),
    "Europe": (".co.uk", ".de", ".fr", ".nl", ".eu"),
    "Asia Pacific": (".com.au", ".sg", ".co.nz", ".jp"),
    "Latin America": (".com.mx", ".com.br", ".cl", ".co"),
    "Middle East & Africa": (".co.za", ".ae", ".ng", ".ke"),
}
NAME_STEMS = (
    "Harbor", "Maple", "Summit", "Riverside", "Oakwood", "Bluewater", "Northgate", "Cedar",
    "Granite", "Lakeside", "Evergreen", "Pioneer", "Silverline", "Redwood", "Brightside",
    "Kingsway", "Fairview", "Westbrook", "Highland", "Meridian", "Stonebridge", "Clearwater",
    "Greenfield", "Sunrise", "Ironwood", "Coastal", "Crescent", "Foxhall", "Goldcrest",
    "Hillcrest", "Juniper", "Keystone", "Millbrook", "Orchard", "Parkside", "Rosewood", "Seaview",
    "Thornbury", "Willow", "Zenith", "Ashford", "Birchwood", "Copperfield", "Driftwood",
)  # fmt: skip
TRADES = (
    "Dental", "Family Dentistry", "Accounting", "Law Group", "Architects", "Plumbing",
    "Veterinary Clinic", "Realty", "Logistics", "Bakery", "Engineering", "Insurance Brokers",
    "Physiotherapy", "Design Studio", "Auto Repair", "Pharmacy", "Consulting", "Builders",
    "Travel", "Print & Copy", "Marketing", "Landscaping", "Hotel", "Medical Group", "Electrical",
    "Catering", "Tax Advisors", "Opticians", "Florists", "Fitness", "Freight", "Wealth Partners",
    "Property Management", "Recruitment", "Roofing", "Brewing Co.", "Cabinetry", "Orthodontics",
)  # fmt: skip

# Today's Microsoft 365 plans make up most of a book (Business Basic and Standard most of all),
# the older ones live on with long-standing customers; any plan an operator adds to the catalogue
# shows up now and then.
PLAN_WEIGHTS = {
    "BPOS-S": 10, "EXO": 12, "SPO": 5, "OLM": 3, "OCO": 3,
    "EXO-P1": 10, "M365-BB": 22, "M365-BS": 20, "M365-BP": 12,
    "O365-E3": 4, "M365-E3": 3, "M365-E5": 2,
}  # fmt: skip
OTHER_PLAN_WEIGHT = 10
PLANS_PER_CUSTOMER = {1: 20, 2: 30, 3: 30, 4: 20}
STATUS_WEIGHTS = {ACTIVE: 85, TRIAL: 4, SUSPENDED: 4, CANCELLED: 7}
HOME_REGION_SHARE = 0.75
PARTNER_BILLED_SHARE = 0.45
ANNUAL_SHARE = 0.65
PARTNER_OF_RECORD_SHARE = 0.92
DISCOUNTS = (5, 10, 12, 15, 20)  # percent off list price, negotiated
HISTORY_DAYS = 3 * 365
MIN_SEATS, MAX_SEATS = 3, 500


@dataclass(frozen=True)
class DemoBook:
    """One demo partner's customers and their subscriptions, as import rows."""

    partner: DemoPartner
    customers: list[CustomerRow]
    subscriptions: list[SubscriptionRow]


@dataclass(frozen=True)
class DemoReport:
    partners: int
    customers: int
    subscriptions: int

    def describe(self) -> str:
        """Says what was loaded, e.g. "10 partners, 1,040 customers, 2,612 subscriptions"."""
        return (
            f"{self.partners:,} partners, {self.customers:,} customers, "
            f"{self.subscriptions:,} subscriptions"
        )


async def load_demo_data(
    sessions: Sessions,
    *,
    catalogue: Catalogue = BUILT_IN,
    today: date | None = None,
    seed: int = 2026,
) -> DemoReport:
    """Fills an empty database with the demo partners, customers and subscriptions."""
    books = demo_books(catalogue=catalogue, today=today or utc_now().date(), seed=seed)
    async with sessions() as session, session.begin():
        existing = await stored_partners.count(session=session)
        if existing:
            raise UserError(
                f"the database already holds {existing:,} partner{'s' if existing != 1 else ''}; "
                "demo-data only fills an empty database"
            )
        for book in books:
            demo = book.partner
            partner = Partner(
                team_id=demo.team_id,
                name=demo.name,
                alert_channel=demo.channel("A"),
                manager_channel=demo.channel("M"),
                orders_channel=demo.channel("O"),
                timezone=demo.timezone,
                approved_at=utc_now(),
            )
            await stored_partners.add(session=session, partner=partner, managers=demo.manager_ids())
            assert partner.id is not None
            customers = customer_changes(
                book.customers, {}, partner_id=partner.id, sets_timezone=True
            )
            await stored.insert_customers(session=session, values=customers.new)
            customer_ids = await stored.customer_ids_by_domain(
                session=session, partner_id=partner.id
            )
            subscriptions = subscription_changes(
                book.subscriptions, {}, partner_id=partner.id, customer_ids=customer_ids
            )
            await stored.insert_subscriptions(session=session, values=subscriptions.new)
    return DemoReport(
        partners=len(books),
        customers=sum(len(book.customers) for book in books),
        subscriptions=sum(len(book.subscriptions) for book in books),
    )


def demo_books(*, catalogue: Catalogue, today: date, seed: int) -> list[DemoBook]:
    """Makes every demo partner's customers and subscriptions; the same seed makes the same data."""
    rng = random.Random(seed)
    taken_domains: set[str] = set()  # tenant domains are unique world-wide, not per partner
    books = []
    for partner in DEMO_PARTNERS:
        customers, subscriptions = [], []
        names = list(TRICKY_NAMES) if partner.number == 1 else []
        taken_names: set[str] = set()
        while len(customers) < partner.customer_count:
            region = home_or_other_region(rng, partner.home_region)
            name = names.pop(0) if names else business_name(rng, region)
            if fold(name) in taken_names:
                continue
            taken_names.add(fold(name))
            customer = demo_customer(rng, name, region, taken_domains, line=len(customers) + 2)
            customers.append(customer)
            subscriptions.extend(demo_subscriptions(rng, customer.domain, catalogue, today))
        # Numbered like the rows of a subscriptions file, as the customers are.
        subscriptions = [replace(row, line=line) for line, row in enumerate(subscriptions, start=2)]
        books.append(DemoBook(partner, customers, subscriptions))
    return books


def home_or_other_region(rng: random.Random, home: str) -> str:
    """Picks a customer's region: mostly the partner's own, sometimes any other."""
    if rng.random() < HOME_REGION_SHARE:
        return home
    return rng.choice([region for region in REGIONS if region != home])


def business_name(rng: random.Random, region: str) -> str:
    """Makes up a small business's name such as `Harbor Dental` or `Rossi Accounting S.A.`."""
    stem = rng.choice(NAME_STEMS) if rng.random() < 0.7 else rng.choice(LAST_NAMES[region])
    name = f"{stem} {rng.choice(TRADES)}"
    return f"{name} {rng.choice(LEGAL_SUFFIXES[region])}" if rng.random() < 0.4 else name


def ascii_slug(text: str) -> str:
    """Returns letters and digits only, accents dropped: `Müller & Töchter` → `mullertochter`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(character for character in plain.lower() if character.isalnum())


def demo_customer(
    rng: random.Random, name: str, region: str, taken_domains: set[str], *, line: int
) -> CustomerRow:
    """Makes a customer with a unique tenant domain and a contact in its region."""
    # Tenants are named after the business, without its legal form: contosodental.onmicrosoft.com
    trade_name = name
    for suffix in LEGAL_SUFFIXES[region]:
        trade_name = trade_name.removesuffix(f" {suffix}")
    slug = ascii_slug(trade_name)[:40]
    tenant, number = slug, 1
    while f"{tenant}.onmicrosoft.com" in taken_domains:
        number += 1
        tenant = f"{slug}{number}"
    domain = f"{tenant}.onmicrosoft.com"
    taken_domains.add(domain)
    first, last = rng.choice(FIRST_NAMES[region]), rng.choice(LAST_NAMES[region])
    email = (
        f"{ascii_slug(first)}.{ascii_slug(last)}@{slug}{rng.choice(MAIL_DOMAIN_ENDINGS[region])}"
    )
    timezone = rng.choice(ZONES[region]) if rng.random() < 0.85 else None
    return CustomerRow(line, name, fold(name), domain, region, f"{first} {last}", email, timezone)


def demo_subscriptions(
    rng: random.Random, domain: str, catalogue: Catalogue, today: date
) -> list[SubscriptionRow]:
    """Makes one customer's 1-4 subscriptions, each to a different plan."""
    count = rng.choices(list(PLANS_PER_CUSTOMER), weights=list(PLANS_PER_CUSTOMER.values()))[0]
    codes = catalogue.codes()
    weights = [PLAN_WEIGHTS.get(code, OTHER_PLAN_WEIGHT) for code in codes]
    chosen: list[str] = []
    while len(chosen) < min(count, len(codes)):
        code = rng.choices(codes, weights=weights)[0]
        if code not in chosen:
            chosen.append(code)
    # A customer is billed either by the vendor or by the partner, for all its plans.
    billing_owner = "partner" if rng.random() < PARTNER_BILLED_SHARE else "vendor"
    return [
        demo_subscription(rng, domain, catalogue, code, billing_owner, today) for code in chosen
    ]


def demo_subscription(
    rng: random.Random,
    domain: str,
    catalogue: Catalogue,
    code: str,
    billing_owner: str,
    today: date,
) -> SubscriptionRow:
    """Makes one subscription: lognormal seats, list price or a negotiated discount."""
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    if status == TRIAL:
        cycle = "monthly"
        # A month's trial, started within the last four weeks: it converts or ends after today.
        start = today - timedelta(days=rng.randint(0, 27))
        renewal = add_months(start, 1)
        seats = rng.randint(MIN_SEATS, 25)
    else:
        cycle = "annual" if rng.random() < ANNUAL_SHARE else "monthly"
        # Three years of history: some subscriptions earn first-year commission, most do not.
        start = today - timedelta(days=rng.randint(1, HISTORY_DAYS))
        renewal = renewal_after(start, cycle, today, ended=status == CANCELLED)
        # Most customers are small businesses; a few hundred-seat ones carry the partner.
        seats = round(math.exp(rng.gauss(2.9, 0.95)))
        if rng.random() < 0.02:
            seats = rng.randint(200, MAX_SEATS)
        seats = min(max(seats, MIN_SEATS), MAX_SEATS)
    list_price = catalogue.plans[code].list_price
    unit_price = list_price
    if rng.random() < (0.5 if seats >= 50 else 0.08):
        unit_price = cents(list_price * (100 - rng.choice(DISCOUNTS)) / 100)
    return SubscriptionRow(
        0,
        domain,
        code,
        seats,
        unit_price,
        cycle,
        start,
        renewal,
        status,
        billing_owner,
        partner_of_record=rng.random() < PARTNER_OF_RECORD_SHARE,
    )


def renewal_after(start: date, cycle: str, today: date, *, ended: bool = False) -> date:
    """Returns the first renewal after today (annual: the anniversary, monthly: the day of the
    month); for an ended subscription, the last renewal day it reached, if any."""

    def renewal(periods: int) -> date:
        return add_years(start, periods) if cycle == "annual" else add_months(start, periods)

    periods = 1
    while renewal(periods) <= today:
        periods += 1
    if ended and periods > 1:
        return renewal(periods - 1)
    return renewal(periods)
