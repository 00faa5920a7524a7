"""Prometheus metrics of one service (its own registry, so several apps in one process never collide).
Labels carry routes, statuses, probe names and actions only: never text."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "incision_requests", "HTTP requests by route and status", ["route", "status"], registry=r
        )
        self.latency = Histogram(
            "incision_request_seconds",
            "request latency by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "incision_tokens", "tokens read (input) and generated (output)", ["route", "kind"], registry=r
        )
        self.firings = Counter(
            "incision_probe_firings",
            "probe scores at or over their threshold",
            ["probe", "action"],
            registry=r,
        )
        self.batch_texts = Histogram(
            "incision_batch_texts", "texts per model pass", buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r
        )
        self.in_flight = Gauge("incision_in_flight", "requests admitted and not yet answered", registry=r)
