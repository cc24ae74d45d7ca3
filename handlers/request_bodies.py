"""Request bodies read up to a limit and no further: a body over it is never held whole."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy


class TooLarge(Exception):
    """The body is over the route's limit."""


class Unreadable(Exception):
    """The body does not parse as the form its content type says (e.g. broken multipart)."""


def limited(request: web.Request, limit: int) -> web.BaseRequest:
    """The same request, reading at most `limit` bytes of body (aiohttp refuses a body once it
    is larger than client_max_size: the limit itself passes, one byte more does not)."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge
    return request.clone(client_max_size=limit)


async def body_within(request: web.Request, limit: int) -> bytes:
    """The raw body; raises TooLarge past `limit` bytes."""
    try:
        return await limited(request, limit).read()
    except web.HTTPRequestEntityTooLarge:
        raise TooLarge from None


async def form_within(request: web.Request, limit: int) -> MultiDictProxy:
    """The posted form (URL-encoded or multipart); raises TooLarge past `limit` bytes, and
    Unreadable for a form that does not parse. Files posted in it are closed at once (the app's
    forms take text only)."""
    try:
        form = await limited(request, limit).post()
    except web.HTTPRequestEntityTooLarge:
        raise TooLarge from None
    except (ValueError, HttpProcessingError):
        raise Unreadable from None
    for value in form.values():
        if isinstance(value, web.FileField):
            value.file.close()
    return form
