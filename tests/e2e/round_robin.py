"""A tiny round-robin HTTP proxy for the multi-replica test (what a Kubernetes Service does for the gateway).

Each request goes to the next replica; a replica that refuses connections is skipped (as an endpoint
that failed its readiness probe would be). Responses are streamed through, so SSE answers work. It
records which replica served each request.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.servers import answer_lifespan, read_body

__all__ = ("RoundRobinProxy",)

_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"host"}


class RoundRobinProxy:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.served: list[tuple[str, int]] = []
        """(HTTP method, replica index) of every request that got an answer."""
        self._turn = itertools.cycle(range(len(upstreams)))
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        body = await read_body(receive)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=2.0))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        path = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        for _ in range(len(self.upstreams)):
            index = next(self._turn)
            request = self._client.build_request(
                scope["method"], self.upstreams[index] + path, headers=headers, content=body
            )
            try:
                response = await self._client.send(request, stream=True)
            except httpx.ConnectError:
                continue
            self.served.append((scope["method"], index))
            try:
                out = [(k.encode(), v.encode()) for k, v in response.headers.items() if k.encode() not in _HOP_BY_HOP]
                await send({"type": "http.response.start", "status": response.status_code, "headers": out})
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except httpx.HTTPError:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                await response.aclose()
            return
        await send({"type": "http.response.start", "status": 502, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"no replica answered"})
