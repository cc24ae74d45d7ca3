"""Apology texts from Jinja2 templates: the ones shipped with the bot, or a partner's own, and
the context an incident and a customer give them.

Templates are sandboxed (a partner's template cannot reach Python internals) and every value is
escaped for Slack mrkdwn as it is written into the text, so a customer named `<!channel>` stays
text. The template's own words are the partner's and are kept as written."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import escape
from bot.catalogue import Catalogue
from bot.outages.credits import credits_for_partner
from bot.outages.messages import IncidentView, incident_view
from bot.outages.scope import scope_for
from bot.outages.tenant_scope import checks_apply
from storage import outages as incident_rows
from storage import tenant_checks
from storage.models import Customer, Incident, Partner

logger = logging.getLogger(__name__)

KINDS = ("apology", "closing")
MAX_TEMPLATE = 3000
GENERIC_CUSTOMER = {"name": "[customer]", "contact_name": "", "domain": ""}
# Slack markup a customer must never read: mentions of people, groups and channels, @here…
SLACK_MENTION = re.compile(r"<[@#!][^>]*>")
SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
# What partner-declared outages said of themselves before who declared them was kept apart.
DECLARED_BY = re.compile(r"Declared by\s*\S*\.?")


def customer_text(text: str) -> str:
    """Text fit for a customer: Slack mentions and channel references removed, links as their
    label and address, spaces tidied."""
    text = SLACK_MENTION.sub("", text)
    text = SLACK_LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] else m[1], text)
    text = re.sub(r"[ \t]+([,.;:!?])", r"\1", text)  # what stood before a removed mention
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def slack_safe(value: object) -> object:
    """Escapes every value written into a text (Slack's autoescape)."""
    return escape(value) if isinstance(value, str) else value


ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined, finalize=slack_safe, autoescape=False, keep_trailing_newline=False
)


@functools.cache
def shipped(kind: str) -> str:
    """The wording shipped with the bot."""
    return resources.files("bot").joinpath("templates", f"{kind}.txt").read_text("utf-8")


@functools.lru_cache(maxsize=256)
def compiled(source: str) -> Template:
    """A template compiled once: compiling costs a hundred times what rendering does, and one
    fan-out renders the same few templates for thousands of partners."""
    return ENVIRONMENT.from_string(source)


@dataclass(frozen=True)
class Rendered:
    text: str = ""
    problem: str = ""  # why the template cannot be used


def render(source: str, context: dict) -> Rendered:
    """Renders a template; a broken one gives its problem instead of raising."""
    if len(source) > MAX_TEMPLATE:
        return Rendered(problem=f"the template is longer than {MAX_TEMPLATE:,} characters")
    try:
        text = compiled(source).render(**context)
    except TemplateError as error:
        where = f" (line {error.lineno})" if getattr(error, "lineno", None) else ""
        return Rendered(problem=f"{error.message or type(error).__name__}{where}")
    except (TypeError, ValueError, ArithmeticError, AttributeError) as error:
        return Rendered(problem=f"{type(error).__name__}: {error}")
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not text:
        return Rendered(problem="the template renders to nothing")
    return Rendered(text=text)


def sample_context() -> dict:
    """Realistic values to try a partner's template against before it is saved."""
    return {
        "partner": {"name": "Northwind Cloud Partners"},
        "customer": {
            "name": "Contoso Dental",
            "contact_name": "Jane Doe",
            "domain": "contosodental.com",
        },
        "services": "Exchange Online",
        "incident": {
            "title": "Users can't send or receive email",
            "status": "degraded",
            "started": "Mon 1 Dec 2026, 09:30 Europe/Berlin",
            "ended": "Mon 1 Dec 2026, 11:45 Europe/Berlin",
            "duration": "2 h 15 min",
            "scope_known": True,
            "impact": "Users may be unable to send or receive email.",
            "latest": "We have identified a configuration change and are rolling it back.",
            "next_update": "within the hour",
            "services_count": 1,
            "started_at": datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        },
        "credit": {"availability": "99.687%", "amount": "$12.50", "rate": "25%", "owed": True},
    }


def check_template(source: str) -> str:
    """Says why a partner's template cannot be used, or "" when it renders on sample data (with
    and without a credit, so both branches of a closing text are tried)."""
    if not source.strip():
        return "the template is empty"
    sample = sample_context()
    unknown = {**sample["incident"], "scope_known": False}
    claim = {**sample["credit"], "owed": False}
    for context in (
        sample,
        {**sample, "credit": None},
        {**sample, "incident": unknown, "credit": claim},
    ):
        rendered = render(source, context)
        if rendered.problem:
            return rendered.problem
    return ""


def apology_context(
    partner: Partner, view: IncidentView, customer: dict, services: str, credit: dict | None
) -> dict:
    """What a template may use: only what a customer should read (the title, the vendor's
    impact in plain words, times in the customer's zone), nothing internal."""
    impact = "" if DECLARED_BY.fullmatch(view.impact.strip()) else customer_text(view.impact)
    return {
        "partner": {"name": partner.name},
        "customer": customer,
        "services": services,
        "incident": {
            "title": customer_text(view.title),
            "status": view.status,
            "started": view.started,
            "ended": view.ended,
            "duration": view.duration,
            "scope_known": view.scope_known,
            "impact": impact,
            "latest": customer_text(view.latest),
            "services_count": services.count(",") + 1,
            "next_update": "as soon as we know more" if view.resolved else "within the hour",
        },
        "credit": credit,
    }


async def apology_text(
    session: AsyncSession,
    partner: Partner,
    view: IncidentView,
    kind: str,
    customer: dict,
    credit: dict | None,
) -> str:
    """Renders a partner's apology (its own template, else the shipped one)."""
    own = await incident_rows.template_of(session=session, partner_id=partner.id, kind=kind)
    return render_apology(own, partner, view, kind, customer, credit)


def render_apology(
    own: str | None,
    partner: Partner,
    view: IncidentView,
    kind: str,
    customer: dict,
    credit: dict | None,
) -> str:
    """Renders an apology from the partner's own template, or the shipped one when it has none
    or its own fails."""
    context = apology_context(partner, view, customer, view.service, credit)
    if own:
        rendered = render(own, context)
        if rendered.text:
            return rendered.text
        logger.warning(
            "partner %s's %s template fails (%s); using the shipped one",
            partner.id,
            kind,
            rendered.problem,
        )
    return render(shipped(kind), context).text


def customer_context(customer: Customer) -> dict:
    return {"name": customer.name, "contact_name": customer.contact_name, "domain": customer.domain}


async def apology_for_customer(
    session: AsyncSession,
    incident: Incident,
    partner: Partner,
    customer: Customer,
    catalogue: Catalogue,
    now: datetime,
) -> str:
    """One affected customer's text: the apology while the incident is open, the closing text
    with its credit once resolved; times in the customer's time zone."""
    time_zone = customer.timezone or partner.timezone
    scope = await scope_for(session, incident, partner.id)
    view = incident_view(incident, time_zone, now, scope)
    answers = (
        await tenant_checks.results_of(
            session=session, incident_id=incident.id, partner_id=partner.id
        )
        if checks_apply(incident, scope)
        else {}
    )
    if answers.get(customer.id, ("", ""))[0] == tenant_checks.CONFIRMED:
        view = replace(view, scope_known=True)  # its own service health lists the incident
    if not incident.is_resolved:
        return await apology_text(
            session, partner, view, "apology", customer_context(customer), None
        )
    credit = None
    found = await credits_for_partner(
        session, incident, partner, catalogue, now, scope, answers or None
    )
    for other, _, context in found:
        if other.id == customer.id:
            credit = context
    return await apology_text(session, partner, view, "closing", customer_context(customer), credit)
