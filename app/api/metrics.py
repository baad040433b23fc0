"""``GET /metrics``: Prometheus text exposition of this app's registry."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from app.metrics import GatewayMetrics

__all__ = ("MetricsController",)


class MetricsController(Controller):
    tags = ["system"]

    @get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE_LATEST, cache=False)
    async def metrics(self, state: State) -> Response[bytes]:
        registry: GatewayMetrics = state.metrics
        return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
