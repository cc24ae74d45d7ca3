"""Calling a Slack listener directly, as bolt's own samples test them: a fake `ack`, `respond` and
`client` that record what the listener did, and the context bolt's middleware would have built."""

from __future__ import annotations

from dataclasses import dataclass, field


class FakeAck:
    """Records each acknowledgement; `response` is set once acked, as bolt's own is."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.response = None

    async def __call__(self, text: str | None = None, **kwargs) -> None:
        answer = {**({"text": text} if text is not None else {}), **kwargs}
        self.calls.append(answer)
        self.response = answer


class FakeRespond:
    """Records every message sent to the response_url."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    async def __call__(self, text: str = "", **kwargs) -> dict:
        self.calls.append({"text": text, **kwargs})
        return {"ok": True}

    @property
    def texts(self) -> list[str]:
        return [call["text"] for call in self.calls]


@dataclass
class FakeClient:
    """Records Web API calls by method name (`views_open`, `users_info` …) and answers each with
    what `answers` holds for it, or {"ok": True}."""

    answers: dict[str, dict] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def __getattr__(self, method: str):
        if method.startswith("__"):
            raise AttributeError(method)

        async def call(**kwargs) -> dict:
            self.calls.append((method, kwargs))
            return self.answers.get(method, {"ok": True})

        return call

    def calls_to(self, method: str) -> list[dict]:
        return [kwargs for name, kwargs in self.calls if name == method]


def listener_context(services, partner) -> dict:
    """The context bolt's middleware gives a listener: the services and the caller's partner."""
    return {"services": services, "partner": partner}
