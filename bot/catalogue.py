"""The plan catalogue (built in, replaceable by the operator with a CSV file) and the regions
customers live in."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

EXCHANGE = "Exchange Online"
SHAREPOINT = "SharePoint Online"
COMMUNICATIONS = "Office Communications Online"
LIVE_MEETING = "Office Live Meeting"
SERVICES = (EXCHANGE, SHAREPOINT, COMMUNICATIONS, LIVE_MEETING)
REGIONS = ("North America", "Europe", "Asia Pacific", "Latin America", "Middle East & Africa")


class CatalogueError(ValueError):
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
