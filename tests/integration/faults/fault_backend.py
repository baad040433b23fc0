"""A raw ASGI MCP backend that misbehaves on ``tools/call`` in one chosen way per path.

``/<fault>/mcp`` answers the handshake and ``tools/list`` correctly (one tool, ``work``), then on
``tools/call``: ``hang`` never answers, ``reset`` drops the connection mid-response, ``http500`` answers
HTTP 500, ``badjson`` sends invalid JSON, ``wrongid`` answers another request id, ``endless`` streams SSE
keep-alives forever, ``huge`` sends a 50 MB result, ``gzip`` answers correctly but gzip-compressed (a
``Content-Encoding`` nobody asked for), ``ok`` behaves.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

from tests.servers import answer_lifespan, read_body

__all__ = ("FAULTS", "FaultBackend")

FAULTS = ("hang", "reset", "http500", "badjson", "wrongid", "endless", "huge", "gzip", "ok")
_TOOL = {"name": "work", "description": "Does work.", "inputSchema": {"type": "object", "properties": {}}}


class FaultBackend:
    def __init__(self) -> None:
        self.calls: dict[str, int] = dict.fromkeys(FAULTS, 0)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        fault = scope["path"].strip("/").split("/")[0]
        if scope["method"] != "POST":
            await _send(send, 405, b"", "text/plain")
            return
        body = await read_body(receive)
        request = json.loads(body)
        method, request_id = request.get("method"), request.get("id")
        if method == "server/discover":
            error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "Method not found"}}
            await _send(send, 404, json.dumps(error).encode())
        elif method == "initialize":
            result = {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": fault, "version": "1"},
            }
            await _send(send, 200, json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode())
        elif request_id is None:
            await _send(send, 202, b"", "text/plain")
        elif method == "tools/list":
            answer = {"jsonrpc": "2.0", "id": request_id, "result": {"tools": [_TOOL]}}
            await _send(send, 200, json.dumps(answer).encode())
        elif method == "tools/call":
            self.calls[fault] += 1
            await self._misbehave(fault, request_id, send)
        else:
            error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "Method not found"}}
            await _send(send, 200, json.dumps(error).encode())

    async def _misbehave(self, fault: str, request_id: Any, send: Any) -> None:
        ok = {"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": "done"}]}}
        if fault == "hang":
            await asyncio.sleep(3600)
        elif fault == "reset":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"500")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"jsonrpc": "2.0", "id": ', "more_body": True})
            raise ConnectionResetError("backend dropped the connection mid-response")
        elif fault == "http500":
            await _send(send, 500, b"Internal Server Error", "text/plain")
        elif fault == "badjson":
            await _send(send, 200, b'{"jsonrpc": "2.0", "id": ')
        elif fault == "wrongid":
            await _send(send, 200, json.dumps({**ok, "id": "someone-else"}).encode())
        elif fault == "endless":
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
            )
            while True:
                await send({"type": "http.response.body", "body": b": still thinking\n\n", "more_body": True})
                await asyncio.sleep(0.05)
        elif fault == "huge":
            text = "x" * (50 * 1024 * 1024)
            await _send(send, 200, json.dumps({**ok, "result": {"content": [{"type": "text", "text": text}]}}).encode())
        elif fault == "gzip":
            body = gzip.compress(json.dumps(ok).encode())
            headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        else:
            await _send(send, 200, json.dumps(ok).encode())


async def _send(send: Any, status: int, body: bytes, kind: str = "application/json") -> None:
    headers = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
