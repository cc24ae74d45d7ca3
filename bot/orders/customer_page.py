"""The customer's order page: which page a link shows, with what values and status, and what a
confirm or decline posted from it comes to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.orders import flows
from bot.orders.rules import Answer, csrf_token, csrf_valid, customer_time_zone, describe
from bot.services import Services
from bot.settings import secret_value
from bot.zones import when_in

# Microsoft's published Microsoft Customer Agreement, which the customer reads before accepting.
MCA_URL = "https://aka.ms/customeragreement"
PHONE = re.compile(r"^[0-9+()\-. ]{0,40}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The most the audit trail keeps of each field the customer types (Confirmer.audit cuts to
# these, and the page's inputs have them as maxlength): a longer one is refused in words, never
# cut silently.
LONGEST_NAME = 200
LONGEST_EMAIL = 254
LONGEST_REASON = 1000
# A form holds the CSRF token and those three fields; even in 4-byte characters, each sent as
# 12 bytes (%XX four times), they stay under 20 kB, so a bigger body is not a browser's.
LARGEST_FORM = 32 * 1024
TOO_LONG = "What you sent is too long. Please shorten your name, email or reason and try again."
UNREADABLE = "Your browser sent something we could not read. Please try again."


@dataclass(frozen=True)
class Page:
    """A page to render: its template, its HTTP status and the template's values."""

    template: str
    status: int = 200
    values: dict = field(default_factory=dict)
    forget_receipt: bool = False  # the receipt of an answer was shown: it is not shown again


NOT_FOUND = Page("not_found.html", status=404)
FORBIDDEN = Page("forbidden.html", status=403)


def unavailable(reference: str) -> Page:
    """The page for a database outage, with the failure's reference for the customer to quote."""
    return Page("unavailable.html", status=503, values={"reference": reference})


@dataclass(frozen=True)
class BackToOrder:
    """After an answer: back to the order's page (post, redirect, get)."""

    token: str
    receipt_for: int | None = None  # the order the answer changed: its page thanks the customer

    @property
    def location(self) -> str:
        return f"/orders/{self.token}"


@dataclass(frozen=True)
class PostedAnswer:
    """What the browser sent with a confirm or decline."""

    csrf: str = ""
    name: str = ""
    email: str = ""
    reason: str = ""
    forwarded_for: str = ""  # the X-Forwarded-For header
    remote: str = ""  # the address the request came from
    user_agent: str = ""
    # The Microsoft Customer Agreement's acceptance, when the page asks for it.
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    accepts_agreement: bool = False


def order_page(
    link: flows.LinkOrder,
    *,
    services: Services,
    token: str,
    status: int = 200,
    just_answered: bool = False,
    errors: tuple[str, ...] = (),
    name: str = "",
    email: str = "",
    agreement: tuple[str, str, str] = ("", "", ""),  # first name, last name, phone as typed
) -> Page:
    """The order's page, in the customer's time zone (else the partner's)."""
    order = link.order
    time_zone = customer_time_zone(link.customer, link.partner)
    values = {
        "order": describe(
            order,
            customer=link.customer,
            partner=link.partner,
            catalogue=services.catalogue,
            time_zone=time_zone,
            vendor=services.settings.vendor_name,
        ),
        "state": link.state.value,
        "token": token,
        "just_answered": just_answered,
        "decided": when_in(order.decided_at, time_zone) if order.decided_at else "",
        "confirmer": order.confirmer_name,
        "errors": errors,
        "name": name,
        "email": email,
        "asks_agreement": link.asks_agreement,
        "places_in_partner_center": link.places_in_partner_center,
        "placement": order.placement,
        "first_name": agreement[0],
        "last_name": agreement[1],
        "phone": agreement[2],
        "agreement_url": MCA_URL,
        "csrf": csrf_token(
            secret_value(services.settings.secret_key),
            order_id=order.id,
            stored_hash=order.token_hash,
        ),
    }
    return Page("order.html", status=status, values=values)


async def page_for_link(services: Services, *, token: str, receipt: str) -> Page:
    """What opening a link shows (reading only); `receipt` is the receipt cookie's value."""
    async with services.sessions() as session:
        link = await flows.open_link(session, token=token, now=services.clock())
    if link is None:
        return NOT_FOUND
    just_answered = receipt == str(link.order.id)
    page = order_page(link, services=services, token=token, just_answered=just_answered)
    return replace(page, forget_receipt=just_answered)


async def refused_form_page(services: Services, *, token: str, too_large: bool) -> Page:
    """The answer to a form far bigger than the page's (413) or one that does not parse (400):
    the order again (reading only), saying so; nothing of what was sent is shown or kept."""
    async with services.sessions() as session:
        link = await flows.open_link(session, token=token, now=services.clock())
    if link is None:
        return NOT_FOUND
    status, error = (413, TOO_LONG) if too_large else (400, UNREADABLE)
    return order_page(link, services=services, token=token, status=status, errors=(error,))


def confirmer_of(posted: PostedAnswer) -> flows.Confirmer:
    """Who answered, as typed, and where from (the proxy's client, if a proxy passed it on)."""
    forwarded = posted.forwarded_for.split(",")[0].strip()
    remote = posted.remote
    ip = f"{forwarded} via {remote}" if forwarded and forwarded != remote else remote
    first, last = " ".join(posted.first_name.split()), " ".join(posted.last_name.split())
    name = " ".join(posted.name.split()) or " ".join(part for part in (first, last) if part)
    return flows.Confirmer(
        name=name,
        first_name=first,
        last_name=last,
        phone=posted.phone.strip(),
        email=posted.email.strip(),
        ip=ip,
        user_agent=posted.user_agent,
        reason=posted.reason.strip(),
    )


def too_long(confirmer: flows.Confirmer) -> tuple[str, ...]:
    """What is longer than the audit trail keeps (said, never cut silently)."""
    found = []
    if len(confirmer.name) > LONGEST_NAME:
        found.append(f"Your name can be at most {LONGEST_NAME} characters.")
    if len(confirmer.email) > LONGEST_EMAIL:
        found.append(f"Your email address can be at most {LONGEST_EMAIL} characters.")
    if len(confirmer.reason) > LONGEST_REASON:
        found.append(f"The reason can be at most {LONGEST_REASON:,} characters.")
    return tuple(found)


def problems(
    answer: Answer, confirmer: flows.Confirmer, *, agreement: bool | None = None
) -> tuple[str, ...]:
    """What is missing from a confirmation (a decline needs nothing), or too long in either;
    `agreement` is whether the customer accepted the Microsoft Customer Agreement, None when
    the page does not ask."""
    if answer is Answer.DECLINE:
        return too_long(confirmer)
    found = []
    if agreement is not None:
        found += agreement_problems(confirmer, accepted=agreement)
    elif not confirmer.name:
        found.append("Type your name.")
    if not EMAIL.match(confirmer.email):
        found.append("Type your email address, such as name@example.com.")
    return tuple(found) + too_long(confirmer)


def agreement_problems(confirmer: flows.Confirmer, *, accepted: bool) -> list[str]:
    """What the Microsoft Customer Agreement's acceptance lacks (Partner Center records the
    first and last name, email and, if given, phone of who accepted it)."""
    found = []
    if not confirmer.first_name:
        found.append("Type your first name.")
    if not confirmer.last_name:
        found.append("Type your last name.")
    if len(confirmer.first_name) > 100 or len(confirmer.last_name) > 100:
        found.append("Your first and last name can be at most 100 characters each.")
    if not PHONE.match(confirmer.phone):
        found.append("Type your phone number with digits, spaces and + ( ) - . only, or none.")
    if not accepted:
        found.append("Tick the box to accept the Microsoft Customer Agreement.")
    return found


async def answer_from_page(
    services: Services, *, token: str, answer: Answer, posted: PostedAnswer
) -> Page | BackToOrder:
    """Applies a confirm or decline posted from the order's page: the page again with what is
    missing, a refusal, or back to the order once the answer is applied."""
    secret_key = secret_value(services.settings.secret_key)
    confirmer = confirmer_of(posted)
    async with services.sessions() as session:
        link = await flows.open_link(session, token=token, now=services.clock())
        if link is None:
            return NOT_FOUND
        asked = posted.accepts_agreement if link.asks_agreement else None
        missing = problems(answer, confirmer, agreement=asked)
        if missing:
            order = link.order
            if not csrf_valid(
                secret_key, posted.csrf, order_id=order.id, stored_hash=order.token_hash
            ):
                return FORBIDDEN
            return order_page(
                link,
                services=services,
                token=token,
                status=400,
                errors=missing,
                # Shown again to correct, never longer than the field takes.
                name=confirmer.name[:LONGEST_NAME],
                email=confirmer.email[:LONGEST_EMAIL],
                agreement=(
                    confirmer.first_name[:100],
                    confirmer.last_name[:100],
                    confirmer.phone[:40],
                ),
            )
        try:
            answered = await flows.answer_link(
                session,
                token=token,
                answer=answer,
                csrf=posted.csrf,
                confirmer=confirmer,
                secret_key=secret_key,
                now=services.clock(),
                catalogue=services.catalogue,
                vendor=services.settings.vendor_name,
            )
        except flows.Forbidden:
            return FORBIDDEN
    if answered is None:
        return NOT_FOUND
    if not answered.changed:
        return BackToOrder(token)
    services.wake_outbox()
    return BackToOrder(token, receipt_for=answered.link.order.id)
