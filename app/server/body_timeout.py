"""BodyReadTimeoutMiddleware: a client that stops sending its request body is answered 408 and cut off.

Without it a slowloris-style client holds a connection and a handler forever by trickling a body.
(Slow *headers* are not visible to an ASGI app; uvicorn's keep-alive timeout and the ingress in front
bound those.)
"""

from __future__ import annotations

import asyncio

from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

__all__ = ("BodyReadTimeoutMiddleware",)


class RequestBodyTimeout(ClientException):
    status_code = 408


class BodyReadTimeoutMiddleware:
    """Bounds the wait for each request-body chunk to the app state's ``settings.request_body_timeout_seconds``."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        limit = scope["app"].state.settings.request_body_timeout_seconds
        body_done = False

        async def bounded_receive() -> ReceiveMessage:
            nonlocal body_done
            if body_done:
                return await receive()  # after the body, receive() waits for the disconnect: not bounded
            try:
                async with asyncio.timeout(limit):
                    message = await receive()
            except TimeoutError:
                detail = f"request body not received within {limit:g}s"
                raise RequestBodyTimeout(detail=detail, headers={"Connection": "close"}) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, bounded_receive, send)
