"""Signed /subscription requests from many workers at once, and the latencies they measured."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
from dataclasses import dataclass, field

import aiohttp

from bot.arguments import fold
from bot.demo import DEMO_TEAM_IDS
from devtools.local_slack import Call, LocalSlack
from devtools.slack_requests import signed_headers, slash_command_body
from storage import customers, partners
from storage.db import Sessions

# What staff type: mostly a customer's domain copied from somewhere, often a part of a name that
# several customers share, sometimes a typo that only the fuzzy suggestions can answer.
QUERY_MIX = {"domain": 0.60, "partial": 0.25, "typo": 0.15}
ANSWER_TIMEOUT = 10.0  # seconds from sending a request to its answer at the response_url
ACK_TIMEOUT = 10.0  # seconds for the HTTP response
MAX_REQUESTS = 200_000  # per run of the workers, whatever the duration
MIN_PARTIAL_LENGTH = 4
# Answers that are failures: the bot's error answers, and a workspace it does not serve.
ERROR_ANSWERS = (
    "Something went wrong",
    "cannot reach its database",
    "is not set up",
    "waiting for approval",
)


class AnswerClock(LocalSlack):
    """A LocalSlack that resolves one future per response_url key when its first post arrives,
    instead of keeping every post and waking every waiter on each one."""

    def __init__(self) -> None:
        super().__init__()
        self._answers: dict[str, asyncio.Future] = {}
        self.late_posts = 0  # posts nobody waits for any more: after a timeout, or extra messages

    def expect(self, key: str) -> asyncio.Future:
        """Returns a future for (arrival time, params) of the first post to the key's URL."""
        future = asyncio.get_running_loop().create_future()
        self._answers[key] = future
        return future

    def forget(self, key: str) -> None:
        self._answers.pop(key, None)

    async def _record(self, call: Call) -> None:
        if call.method != "response_url":
            await super()._record(call)
            return
        future = self._answers.pop(call.key, None)
        if future is None or future.done():
            self.late_posts += 1
        else:
            future.set_result((time.perf_counter(), call.params))


@dataclass(frozen=True)
class QueryPool:
    """What the bench types for one partner, by kind of query."""

    domain: list[str]
    partial: list[str]
    typo: list[str]

    def of_kind(self, kind: str) -> list[str]:
        return getattr(self, kind)


def partial_queries(names: list[str], domains: list[str]) -> list[str]:
    """Words of the customers' names that several of them contain, and none is named."""
    whole = set(names) | set(domains)
    searched = [f"{name} {domain}" for name, domain in zip(names, domains, strict=True)]
    words = {word for name in names for word in name.split()}
    return sorted(
        word
        for word in words
        if word.isalpha()
        and len(word) >= MIN_PARTIAL_LENGTH
        and word not in whole
        and sum(word in text for text in searched) >= 2
    )


def typo_queries(names: list[str], domains: list[str], rng: random.Random) -> list[str]:
    """Customers' names with two neighbouring letters swapped, where that matches nothing."""
    typos = []
    for name in names:
        positions = [
            i
            for i in range(1, len(name) - 2)
            if name[i].isalpha() and name[i + 1].isalpha() and name[i] != name[i + 1]
        ]
        if not positions:
            continue
        i = rng.choice(positions)
        typo = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        if not any(typo in other for other in itertools.chain(names, domains)):
            typos.append(typo)
    return typos


async def query_pools(
    sessions: Sessions, *, seed: int, team_ids: list[str] = DEMO_TEAM_IDS
) -> dict[str, QueryPool]:
    """Builds each partner's queries (the demo partners' by default) from its stored customers."""
    rng = random.Random(seed)
    pools = {}
    async with sessions() as session:
        for team_id in team_ids:
            partner = await partners.get_by_team_id(session=session, team_id=team_id)
            assert partner is not None and partner.id is not None, f"{team_id} has no demo data"
            rows = await customers.ids_names_and_domains(session=session, partner_id=partner.id)
            names = [fold(name) for _, name, _ in rows]
            domains = [domain for _, _, domain in rows]
            pools[team_id] = QueryPool(
                domain=sorted(domains),
                partial=partial_queries(names, domains),
                typo=typo_queries(names, domains, rng),
            )
    return pools


def message_in_ack(body: bytes) -> dict | None:
    """The message an acknowledgement carries (Slack shows it at once), or None for an empty
    one. bolt sends a text-only answer as the bare text."""
    if not body.strip():
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return {"text": body.decode(errors="replace")}
    return message if isinstance(message, dict) else {"text": str(message)}


def kind_of_answer(text: str) -> str:
    """Tells which kind of query the bot's answer text answers (or "error")."""
    if any(marker in text for marker in ERROR_ANSWERS):
        return "error"
    if text.startswith("No customer matches"):
        return "typo"
    if " match “" in text:  # "7 customers match “dental”"
        return "partial"
    return "domain"


@dataclass
class Sample:
    """One request: its kind of query, and its latencies in seconds (None when it failed)."""

    kind: str
    ack: float | None = None
    answer: float | None = None
    error: str = ""
    unexpected: bool = False  # answered, but not the kind of answer the query calls for


@dataclass
class LoadRun:
    samples: list[Sample] = field(default_factory=list)
    elapsed: float = 0.0  # from the first request sent to the last one finished


@dataclass(frozen=True)
class Load:
    """Who to load and with what: the target's Slack endpoint, secrets and queries."""

    events_url: str
    signing_secret: str
    slack: AnswerClock
    pools: dict[str, QueryPool]
    concurrency: int
    check_answers: bool  # the floor answers the same fixed message to everything


async def one_request(
    load: Load, http: aiohttp.ClientSession, *, kind: str, text: str, team_id: str, key: str,
    user_id: str,
) -> Sample:  # fmt: skip
    sample = Sample(kind)
    body = slash_command_body(
        command="/subscription", text=text, team_id=team_id, user_id=user_id,
        response_url=load.slack.response_url(key),
    )  # fmt: skip
    headers = signed_headers(load.signing_secret, body)
    answer = load.slack.expect(key)
    started = time.perf_counter()
    try:
        async with http.post(load.events_url, data=body, headers=headers) as response:
            ack_body = await response.read()
            sample.ack = time.perf_counter() - started
            if response.status != 200:
                sample.error = f"http {response.status}"
        message = message_in_ack(ack_body)
        if message is not None:  # the person sees it as the ack arrives
            sample.answer = sample.ack
        elif not sample.error:
            arrived, message = await asyncio.wait_for(answer, ANSWER_TIMEOUT - sample.ack)
            sample.answer = arrived - started
        if message is not None:
            answered = kind_of_answer(message.get("text", ""))
            if answered == "error":
                sample.error = "error answer"
            elif load.check_answers and answered != kind:
                sample.unexpected = True
    except TimeoutError:
        sample.error = "answer timeout" if sample.ack is not None else "ack timeout"
    except aiohttp.ClientError as error:
        sample.error = type(error).__name__
    finally:
        load.slack.forget(key)
    return sample


async def run_load(load: Load, *, seconds: float, seed: int, label: str) -> LoadRun:
    """Runs `concurrency` workers, each sending a request and waiting for its answer before the
    next, until `seconds` have passed; requests already sent then finish (or time out)."""
    run = LoadRun()
    budget = itertools.count()
    kinds, weights = list(QUERY_MIX), list(QUERY_MIX.values())
    timeout = aiohttp.ClientTimeout(total=ACK_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=load.concurrency)
    started = time.perf_counter()
    deadline = started + seconds
    team_ids = sorted(load.pools)

    async def worker(number: int, http: aiohttp.ClientSession) -> None:
        rng = random.Random(f"{seed}-{number}")
        sequence = 0
        while time.perf_counter() < deadline and next(budget) < MAX_REQUESTS:
            team_id = rng.choice(team_ids)
            kind = rng.choices(kinds, weights)[0]
            text = rng.choice(load.pools[team_id].of_kind(kind))
            sample = await one_request(
                load, http, kind=kind, text=text, team_id=team_id,
                key=f"{label}-{number}-{sequence}", user_id=f"U0BENCH{number:03d}",
            )  # fmt: skip
            run.samples.append(sample)
            sequence += 1

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(worker(number, http) for number in range(load.concurrency)))
    run.elapsed = time.perf_counter() - started
    return run


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of the values, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def latency_figures(values: list[float]) -> dict[str, float | None]:
    """p50, p95 and p99 in milliseconds."""
    return {
        name: None if (value := percentile(values, fraction)) is None else round(value * 1000, 2)
        for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
    }


def run_figures(run: LoadRun) -> dict:
    """The figures of one run: counts, throughput, latencies (overall and per kind of query)."""
    answered = [s for s in run.samples if not s.error]
    errors: dict[str, int] = {}
    for sample in run.samples:
        if sample.error:
            errors[sample.error] = errors.get(sample.error, 0) + 1
    by_kind = {
        kind: {
            "requests": sum(s.kind == kind for s in run.samples),
            "answer_ms": latency_figures([s.answer for s in answered if s.kind == kind]),
        }
        for kind in QUERY_MIX
    }
    return {
        "requests": len(run.samples),
        "seconds": round(run.elapsed, 3),
        "rps": round(len(answered) / run.elapsed, 1) if run.elapsed else 0.0,
        "ack_ms": latency_figures([s.ack for s in run.samples if s.ack is not None]),
        "answer_ms": latency_figures([s.answer for s in answered]),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "unexpected_answers": sum(s.unexpected for s in run.samples),
        "by_query_kind": by_kind,
    }
