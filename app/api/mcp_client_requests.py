"""ClientRequests: requests the gateway sends to a handshake-era agent during a ``tools/call`` (a backend's
``elicitation/create``, relayed), and the agent's answers, which come back as separate POSTs; also the
calls running for each session, so the agent's ``notifications/cancelled`` can stop them.

The request travels on the call's own SSE stream; the answer is a JSON-RPC response POSTed with the same
``Mcp-Session-Id``. Waiting calls live in this process, so the answer must reach the replica serving the
call (session affinity at the load balancer); an answer that lands elsewhere is acknowledged and ignored,
and the waiting call gives up after ``timeout`` seconds with an error the backend sees.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from app.adapters.mcp_client.session_base import ServerRequestDeclined, ServerRequestHandler

__all__ = ("ClientRequests",)

_CAPABILITY = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling", "roots/list": "roots"}
_NO_ANSWER = -32001
_NOT_SUPPORTED = -32601


class ClientRequests:
    """The requests waiting for an agent's answer, by the id the gateway gave them."""

    __slots__ = ("_calls", "_pending", "timeout")

    def __init__(self, timeout: float = 600.0) -> None:
        self.timeout = timeout
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._calls: dict[tuple[str, str], asyncio.Task[None]] = {}
        """Streamed ``tools/call`` tasks by (session, JSON-RPC id), for ``notifications/cancelled``."""

    def track(self, session_id: str, request_id: Any, task: asyncio.Task[None]) -> None:
        """Remember a running call so the agent can cancel it; forgotten when it ends."""
        key = (session_id, str(request_id))
        self._calls[key] = task
        task.add_done_callback(lambda _: self._calls.pop(key, None))

    def cancel(self, session_id: str, request_id: Any) -> bool:
        """``notifications/cancelled`` from the agent: stop that call (and so its backend call)."""
        task = self._calls.get((session_id, str(request_id)))
        if task is None:
            return False
        task.cancel()
        return True

    def asker(
        self, session_id: str, capabilities: dict[str, Any]
    ) -> Callable[[Callable[[dict[str, Any]], None]], ServerRequestHandler]:
        """For one call of one session: given how to put a message on the call's stream, the handler that asks."""

        def bind(emit: Callable[[dict[str, Any]], None]) -> ServerRequestHandler:
            async def ask(method: str, params: dict[str, Any]) -> dict[str, Any]:
                _check_capability(method, params, capabilities)
                request_id = f"gateway-{uuid.uuid4().hex}"
                future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                self._pending[request_id] = (session_id, future)
                try:
                    emit({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
                    async with asyncio.timeout(self.timeout):
                        return await future
                except TimeoutError:
                    message = f"the agent did not answer {method} within {self.timeout:g}s"
                    raise ServerRequestDeclined(_NO_ANSWER, message) from None
                finally:
                    self._pending.pop(request_id, None)

            return ask

        return bind

    def answer(self, session_id: str, message: dict[str, Any]) -> bool:
        """Hand an agent's response to the call waiting for it; False when nothing here waits for that id."""
        waiting = self._pending.get(str(message.get("id")))
        if waiting is None or waiting[0] != session_id or waiting[1].done():
            return False
        future = waiting[1]
        error = message.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            text = error.get("message")
            future.set_exception(
                ServerRequestDeclined(code if isinstance(code, int) else _NO_ANSWER, str(text or "declined"))
            )
        else:
            result = message.get("result")
            future.set_result(result if isinstance(result, dict) else {})
        return True


def _check_capability(method: str, params: dict[str, Any], capabilities: dict[str, Any]) -> None:
    needed = _CAPABILITY.get(method)
    declared = capabilities.get(needed) if needed is not None else None
    if needed is None or declared is None:
        what = f"the {needed} capability" if needed else f"{method} requests"
        raise ServerRequestDeclined(_NOT_SUPPORTED, f"the agent did not declare {what}")
    url_mode = method == "elicitation/create" and params.get("mode") == "url"
    if url_mode and (not isinstance(declared, dict) or "url" not in declared):
        raise ServerRequestDeclined(_NOT_SUPPORTED, "the agent did not declare URL-mode elicitation")
