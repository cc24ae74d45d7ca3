"""What the aiohttp routes share: the services key, the page templates and the security headers
of every page a browser opens (the customer's order page, the install result)."""

from __future__ import annotations

import jinja2
from aiohttp import web

from bot.blocks import visible
from bot.services import Services

SERVICES = web.AppKey("services", Services)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never hand it to another site
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def templates() -> jinja2.Environment:
    """The page templates, autoescaped; text from data loses the invisible characters that could
    change what a customer reads (a name like `Acme\u202eexe.fdp`)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: visible(value) if isinstance(value, str) else value,
    )
