"""Prometheus metrics of this process: what the app and the workers count, and its exposition.

Each process (every ``hotline serve``, every ``hotline worker``) exposes its own counters on its
own ``/metrics``; Prometheus scrapes each as a target and ``sum()`` adds them up. No
multiprocess mode: the processes run in separate containers or hosts with no directory to share,
and per-process files would outlive the restarts they should forget.

Every label value comes from a short fixed set (``label``) or from the code (a route template,
a flow name): never a number, an id, a case reference or a token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import REGISTRY, Collector

CHANNELS = frozenset({"ussd", "sms", "telegram", "api", "web", "ops"})
"""Where a request or a message comes from or goes (``ops``: health and metrics)."""
PRIORITIES = frozenset({"P1", "P2", "P3", "P4"})
LEVELS = frozenset({"primary", "backup", "supervisor", "unacknowledged"})
OTHER = "other"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter(
    "hotline_http_requests",
    "HTTP requests answered, by channel, route template, method and status.",
    ["channel", "route", "method", "status"],
)
LATENCY = Histogram(
    "hotline_http_request_duration_seconds",
    "Time to answer an HTTP request, by channel and route template.",
    ["channel", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CASES = Counter(
    "hotline_cases_created",
    "Cases stored (committed), by priority and channel.",
    ["priority", "channel"],
)
ESCALATIONS = Counter(
    "hotline_escalations",
    "Escalation steps taken, by the level alerted (unacknowledged: the supervisor did not act).",
    ["level"],
)
DELIVERIES = Counter(
    "hotline_outbox_deliveries",
    "Outbox delivery attempts, by channel and the message's status after it.",
    ["channel", "outcome"],
)
HEARTBEATS = Counter(
    "hotline_worker_heartbeats",
    "Heartbeats this worker wrote to the database.",
)
LAST_HEARTBEAT = Gauge(
    "hotline_worker_last_heartbeat_timestamp_seconds",
    "When this worker last wrote its heartbeat (Unix time).",
)
JOBS = Counter(
    "hotline_worker_jobs",
    "Jobs and loop rounds run by this process, by job and outcome (ok or error).",
    ["job", "outcome"],
)


def label(value: str | None, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed``, else ``other``: a label never takes free text."""
    return value if value is not None and value in allowed else OTHER


def exposition(*collectors: Collector) -> bytes:
    """The text exposition of this process's metrics, then of ``collectors`` (per-app ones)."""
    body = generate_latest(REGISTRY)
    if collectors:
        extra = CollectorRegistry(auto_describe=False)
        for collector in collectors:
            extra.register(collector)
        body += generate_latest(extra)
    return body


def authorised(header: str | None, token: str | None) -> bool:
    """Does an ``Authorization`` header carry the metrics bearer token (constant time)?"""
    if not token or not header:
        return False
    scheme, _, given = header.partition(" ")
    given = given.strip()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())
