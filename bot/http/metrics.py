"""``/metrics`` of an app process: behind ``HOTLINE_METRICS_TOKEN``, never public.

Without the token set, ``/metrics`` on the app's port is 404 (a separate port,
``HOTLINE_METRICS_PORT``, may serve it instead: ``bot.core.metrics_port``); with it, a request
without that bearer token gets 401. The answer: this process's counters
(``bot.core.metrics``), the database's and session store's gauges (``bot.jobs.gauges``) and
the flow versions this process serves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from bot.core.metrics import CONTENT_TYPE, authorised, exposition
from bot.jobs.gauges import StateGauges

log = logging.getLogger(__name__)

PATH = "/metrics"
DIGEST = 12
"""Characters of a flow version's digest shown as its label."""


class FlowVersions(Collector):
    """``hotline_flow_version_info{flow, version}``: the versions this process serves now."""

    def __init__(self, flows: Callable[[], Iterable[tuple[str, str]]]) -> None:
        self.flows = flows

    def collect(self) -> Iterator[Metric]:
        """One series per flow, valued 1, its version's digest as a label."""
        info = GaugeMetricFamily(
            "hotline_flow_version_info",
            "Flow versions this process serves (the version is its content digest).",
            labels=["flow", "version"],
        )
        try:
            served = sorted(self.flows())
        except Exception as exc:  # content being swapped or reshaped: no series this scrape
            log.warning("metrics: flow versions not readable (%s)", type(exc).__name__)
            served = []
        for name, version in served:
            info.add_metric([name[:64], version[:DIGEST]], 1.0)
        yield info


class AppMetrics:
    """What an app process exposes; rendered by the route and by the metrics port alike."""

    def __init__(self, gauges: StateGauges, flows: Callable[[], Iterable[tuple[str, str]]]):
        self.gauges = gauges
        self.versions = FlowVersions(flows)

    async def render(self) -> bytes:
        """Refresh the gauges (if stale) and render everything in the text format."""
        await self.gauges.refresh()
        return exposition(self.gauges, self.versions)


def install_metrics(app: FastAPI, metrics: AppMetrics, *, token: str | None) -> None:
    """Add ``GET /metrics``: 404 without a configured token, 401 without the right bearer."""

    @app.get(PATH, include_in_schema=False)
    async def scrape(request: Request) -> Response:
        """This process's metrics, for Prometheus with the metrics token."""
        if not token:
            return Response('{"detail":"not found"}', 404, media_type="application/json")
        if not authorised(request.headers.get("authorization"), token):
            return Response(
                '{"detail":"a bearer token is needed"}',
                401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="application/json",
            )
        return Response(await metrics.render(), media_type=CONTENT_TYPE)
