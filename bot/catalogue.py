"""The plan catalogue (built in, replaceable by the operator with a CSV file), the names Microsoft
Graph's service health gives its services, and the regions customers live in."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.arguments import fold
from bot.errors import UserError

EXCHANGE = "Exchange Online"
SHAREPOINT = "SharePoint Online"
COMMUNICATIONS = "Office Communications Online"
LIVE_MEETING = "Office Live Meeting"
# Today's services, as Microsoft Graph's service health names them.
ONEDRIVE = "OneDrive for Business"
TEAMS = "Microsoft Teams"
OFFICE_WEB = "Office for the web"
APPS = "Microsoft 365 apps"
INTUNE = "Microsoft Intune"
ENTRA = "Microsoft Entra"
POWER_BI = "Power BI"
# What today's plans bundle: Business Basic's web services, Standard's desktop apps on top (as in
# Office 365 E3), Premium's device management and identity on top (as in Microsoft 365 E3).
BASIC = (EXCHANGE, SHAREPOINT, ONEDRIVE, TEAMS, OFFICE_WEB)
STANDARD = (*BASIC, APPS)
PREMIUM = (*STANDARD, INTUNE, ENTRA)
# An issue Graph files under this name touches every service.
SUITE = "Microsoft 365 suite"
# The older services live on in Graph under newer names: an issue Graph files under one of these
# touches the service too (Office Communications Online became Lync, Skype for Business, then
# Teams; Live Meeting's meetings are Teams meetings now).
GRAPH_NAMES = {
    COMMUNICATIONS: (TEAMS, "Skype for Business"),
    LIVE_MEETING: (TEAMS,),
}
REGIONS = ("North America", "Europe", "Asia Pacific", "Latin America", "Middle East & Africa")


class CatalogueError(UserError):
    """The operator's catalogue file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    services: tuple[str, ...]
    list_price: Decimal  # per seat per month


@dataclass(frozen=True)
class Catalogue:
    plans: dict[str, Plan]

    def get(self, code: str) -> Plan | None:
        """Returns the plan with this code (any letter case), or None."""
        return self.plans.get(code.strip().upper())

    def codes(self) -> list[str]:
        """Returns the plan codes in catalogue order."""
        return list(self.plans)

    def name_of(self, code: str) -> str:
        """Returns a plan's name, or the code itself for a plan no longer in the catalogue."""
        plan = self.get(code)
        return plan.name if plan else code

    def services(self) -> list[str]:
        """The services the plans include, in catalogue order."""
        found: list[str] = []
        for plan in self.plans.values():
            found += [service for service in plan.services if service not in found]
        return found

    def spelling_of(self, service: str) -> str:
        """A service's name as the catalogue (or Graph) spells it, whatever its letter case; an
        unknown name is returned as given."""
        names = [SUITE, *self.services()]
        names += [alias for service in self.services() for alias in graph_names(service)]
        return {fold(name): name for name in reversed(names)}.get(fold(service), service)

    def services_named(self, plan: Plan, issue_service: str) -> tuple[str, ...]:
        """The services of a plan that an issue filed under a (Graph) service name touches."""
        if fold(issue_service) == fold(SUITE):
            return plan.services
        return tuple(s for s in plan.services if fold(issue_service) in map(fold, graph_names(s)))

    def plans_touched_by(self, issue_service: str) -> list[str]:
        """The codes of the plans with a service that an issue filed under this name touches."""
        plans = self.plans.values()
        return [plan.code for plan in plans if self.services_named(plan, issue_service)]


def graph_names(service: str) -> tuple[str, ...]:
    """The names an issue touching a service can be filed under: its own, then Graph's."""
    return (service, *GRAPH_NAMES.get(service, ()))


BUILT_IN = Catalogue(
    plans={
        plan.code: plan
        for plan in (
            Plan(
                "BPOS-S",
                "Business Productivity Online Standard Suite",
                (EXCHANGE, SHAREPOINT, COMMUNICATIONS, LIVE_MEETING),
                Decimal("15.00"),
            ),
            Plan("EXO", "Exchange Online", (EXCHANGE,), Decimal("5.00")),
            Plan("SPO", "SharePoint Online", (SHAREPOINT,), Decimal("5.25")),
            Plan("OCO", "Office Communications Online", (COMMUNICATIONS,), Decimal("2.00")),
            Plan("OLM", "Office Live Meeting", (LIVE_MEETING,), Decimal("4.50")),
            # Today's plans at Microsoft's published list prices (per user per month, USD, annual
            # commitment), with their services as Graph's service health names them.
            Plan("EXO-P1", "Exchange Online (Plan 1)", (EXCHANGE,), Decimal("4.00")),
            Plan("M365-BB", "Microsoft 365 Business Basic", BASIC, Decimal("6.00")),
            Plan("M365-BS", "Microsoft 365 Business Standard", STANDARD, Decimal("12.50")),
            Plan("M365-BP", "Microsoft 365 Business Premium", PREMIUM, Decimal("22.00")),
            Plan("O365-E3", "Office 365 E3", STANDARD, Decimal("23.00")),
            Plan("M365-E3", "Microsoft 365 E3", PREMIUM, Decimal("36.00")),
            Plan("M365-E5", "Microsoft 365 E5", (*PREMIUM, POWER_BI), Decimal("57.00")),
        )
    }
)

CATALOGUE_COLUMNS = ("code", "name", "services", "list_price")


def load_catalogue(path: Path | None) -> Catalogue:
    """Reads an operator's catalogue CSV (code,name,services,list_price; services split by ';')."""
    if path is None:
        return BUILT_IN
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.DictReader(file)
            missing = [c for c in CATALOGUE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CatalogueError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
            plans: dict[str, Plan] = {}
            for row in reader:
                line = reader.line_num
                code = (row["code"] or "").strip().upper()
                services = tuple(s.strip() for s in (row["services"] or "").split(";") if s.strip())
                if not code or not (row["name"] or "").strip() or not services:
                    raise CatalogueError(
                        f"{path}: line {line}: code, name and services are required"
                    )
                try:
                    price = Decimal((row["list_price"] or "").strip())
                except InvalidOperation:
                    raise CatalogueError(
                        f"{path}: line {line}: list_price is not a number"
                    ) from None
                if price < 0 or price != price.quantize(Decimal("0.01")):
                    raise CatalogueError(
                        f"{path}: line {line}: list_price must be positive with at most 2 decimals"
                    )
                plans[code] = Plan(code, row["name"].strip(), services, price)
    except OSError as error:
        raise CatalogueError(f"{path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: not UTF-8 text") from None
    if not plans:
        raise CatalogueError(f"{path}: no plans in the file")
    return Catalogue(plans=plans)
