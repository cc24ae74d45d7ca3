"""Reading Slack's error answers: the error's name, the HTTP status and a 429's Retry-After."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After is taken as this


def error_code(error: SlackApiError) -> str:
    """Slack's error name; an answer that was not Slack's JSON (a proxy's 502 page) has none."""
    response = error.response
    code = response.get("error") if hasattr(response, "get") else None
    return str(code or f"HTTP {status_of(error)}")


def status_of(error: SlackApiError) -> int:
    return int(getattr(error.response, "status_code", getattr(error.response, "status", 0)) or 0)


def retry_after_of(error: SlackApiError) -> float:
    """The seconds a 429 asks to wait, between 1 and MAX_RETRY_AFTER."""
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        seconds = max(float(value), 1.0)
    except (TypeError, ValueError):
        seconds = 1.0
    return min(seconds, MAX_RETRY_AFTER)
