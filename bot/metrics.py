"""Prometheus metrics of one bot process, on a registry of its own (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "partnerbot_http_requests_total",
            "HTTP requests served, by route and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "partnerbot_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.slack_requests = Counter(
            "partnerbot_slack_requests_total",
            "Slack requests handled, by kind (command, action, event) and name.",
            ["kind", "name"],
            registry=self.registry,
        )
        self.answer_latency = Histogram(
            "partnerbot_answer_duration_seconds",
            "Time from a Slack request to the bot's answer being sent, by command.",
            ["command"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5),
        )
        self.errors = Counter(
            "partnerbot_errors_total",
            "Failures shown to users as 'something went wrong', by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.database_up = Gauge(
            "partnerbot_database_up",
            "1 when the database answered the last health check, else 0.",
            registry=self.registry,
        )
