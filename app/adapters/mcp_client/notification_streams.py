"""Backend change-notification streams: what keeps the tool catalog fresh between TTL refreshes.

Handshake era: the session's GET server stream. 2026-07-28: a ``subscriptions/listen`` request that
asks for ``tools/list_changed``. Both are mixed into :class:`StreamableHttpSession`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from app.adapters.mcp_client.exchange import SessionExpired, StreamableExchange
from app.adapters.mcp_client.jsonrpc import encode_request
from app.adapters.mcp_client.protocol import transport_error, with_query
from app.errors import BackendError, BackendProtocolError

__all__ = ("NotificationStreams",)

logger = logging.getLogger("mcp_gateway.backend")


class NotificationStreams(StreamableExchange):
    """``listen()`` for a Streamable HTTP session (the hooks below are implemented by the session)."""

    _generation: int

    async def connect(self) -> None:
        raise NotImplementedError

    async def _reconnect(self, seen_generation: int) -> None:
        raise NotImplementedError

    async def listen(self) -> None:
        """Keep the backend's change-notification stream open and hand every notification to the handler.

        Handshake era: the GET server stream of the session. 2026-07-28: a ``subscriptions/listen``
        request asking for list changes. Reconnects with backoff; returns when the backend offers no
        such stream (405), or — 2026-07-28 — does not announce ``tools.listChanged`` (a handshake-era
        server may notify on its GET stream whatever it announced). Runs until cancelled.
        """
        delay = 1.0
        while True:
            try:
                await self.connect()
                generation = self._generation
                if self.era == "modern" and not (self.capabilities.get("tools") or {}).get("listChanged"):
                    return
                if self.era == "handshake":
                    if not await self._hold_server_stream():
                        return
                else:
                    await self._hold_subscription()
                delay = 1.0
            except SessionExpired:
                await self._reconnect(generation)
                continue
            except BackendError as exc:
                logger.debug("notification stream of '%s' failed: %s", self.name, exc.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def _hold_server_stream(self) -> bool:
        """Read the handshake-era GET stream until it ends; ``False`` if the backend has none (405)."""
        injection = await self._injection()
        headers = self._headers("", None, injection)
        headers["accept"] = "text/event-stream"
        del headers["content-type"]
        try:
            async with self._http.stream(
                "GET",
                with_query(self.url, injection.query),
                headers=headers,
                timeout=httpx.Timeout(None, connect=10),
            ) as response:
                if response.status_code == 405:
                    return False
                if response.status_code == 404 and self.session_id:
                    raise SessionExpired
                if response.status_code != 200:
                    raise BackendProtocolError(self.name, f"server stream answered HTTP {response.status_code}")
                await self._read_event_stream(response, None)
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc) from None
        return True

    async def _hold_subscription(self) -> None:
        """One 2026-07-28 ``subscriptions/listen`` stream, read until the backend ends it."""
        injection = await self._injection()
        params = self._with_meta({"notifications": {"toolsListChanged": True}}, injection, "subscriptions/listen")
        headers = self._headers("subscriptions/listen", params, injection)
        request_id = next(self._ids)
        try:
            async with self._http.stream(
                "POST",
                with_query(self.url, injection.query),
                content=encode_request(request_id, "subscriptions/listen", params),
                headers=headers,
                timeout=httpx.Timeout(None, connect=10),
            ) as response:
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if response.status_code != 200 or content_type != "text/event-stream":
                    raise BackendProtocolError(self.name, f"subscriptions/listen answered HTTP {response.status_code}")
                with contextlib.suppress(BackendProtocolError):  # a graceful end is a final response
                    await self._read_event_stream(response, request_id)
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc) from None
