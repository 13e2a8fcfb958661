"""``GET /metrics`` on the web port: the Prometheus text exposition of
:class:`serve.prometheus.Metrics` (names in :mod:`serve.metric_names`).

No log-in: a Prometheus scrape is unauthenticated by convention, and this one
carries no personal data (counts, waits and states by queue, agent state and
alarm kind; no caller numbers, names or agent ids), on a port that
``[web]`` only binds to a loopback address. A Prometheus on another machine
reaches it through whatever exposes the web port (a reverse proxy with its own
access rules), not directly.

The body is rendered on the event loop: the scrape-time figures read the read
model (one O(calls + agents) snapshot) and must not race the engine.
"""

from __future__ import annotations

from fastapi import FastAPI, Response

from serve.prometheus import CONTENT_TYPE, Metrics

__all__ = ["install"]


def install(app: FastAPI, metrics: Metrics) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def scrape() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)
