"""A bare HTTP hop, the yardstick for the gateway's own cost: uvicorn (uvloop, httptools) and one pooled
aiohttp session passing each POST body and its MCP headers to the backend and the answer back, with no
parsing, checks, authentication, audit, metrics or routing. What any proxy on this stack pays per call at
the least; the gateway's CPU per call reads against it and against the backend's.

Run: ``python -m tests.benchmarks.bare_hop PORT BACKEND_URL`` (``GET /`` answers 200 once it is up).
"""

from __future__ import annotations

import sys
from typing import Any

import aiohttp
import uvicorn

_FORWARDED = (b"content-type", b"accept", b"mcp-protocol-version", b"mcp-method", b"mcp-name")


def forwarder(backend: str) -> Any:
    session: aiohttp.ClientSession | None = None

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if session is not None:
                await session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"bare hop"})
            return
        if session is None:
            session = aiohttp.ClientSession(auto_decompress=False, skip_auto_headers=("User-Agent",))
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k in _FORWARDED}
        async with session.post(backend, data=body, headers=headers) as answer:
            reply = await answer.read()
            kind = answer.headers.get("content-type", "application/json").encode()
            status = answer.status
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": reply})

    return app


if __name__ == "__main__":
    port, backend = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(forwarder(backend), host="127.0.0.1", port=port, access_log=False, log_level="warning")
