"""Multi-round-trip ``tools/call`` through the gateway (2026-07-28 ``InputRequiredResult``).

A backend that needs input answers ``resultType: "input_required"`` with ``inputRequests`` and an opaque
``requestState``. For a 2026-07-28 caller the gateway passes the result on, replacing ``requestState`` by
one of its own: signed, naming the backend, the backend tool, the backend's state and the caller, so the
retry — on any replica — goes back to the same backend with the caller's ``inputResponses``. For a
handshake-era caller that declared the capability, the gateway asks it each request itself (as real
``elicitation/create`` … requests on the call's stream) and retries the backend, up to ``max_rounds``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.adapters.mcp_client.session_base import Era, ServerRequestDeclined, ServerRequestHandler
from app.domain.caller import current_call
from app.domain.invocation import ToolRouter
from app.domain.mcp.sessions import PendingInput, SessionCodec
from app.errors import InvalidRequest

__all__ = ("InputRounds",)


class InputRounds:
    """Runs a ``tools/call`` to completion or to the point where the caller must supply input."""

    __slots__ = ("_codec", "_router", "max_rounds")

    def __init__(self, router: ToolRouter, codec: SessionCodec, *, max_rounds: int = 10) -> None:
        self._router = router
        self._codec = codec
        self.max_rounds = max_rounds

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        params: dict[str, Any],
        era: Era,
        on_progress: Callable[[dict[str, Any]], None] | None,
        on_request: ServerRequestHandler | None,
    ) -> dict[str, Any]:
        """The call's result (``input_required`` only for 2026-07-28 callers).

        Raises:
            InvalidRequest: a ``requestState`` that is not the gateway's, expired, or another caller's.
            and whatever ``ToolRouter.call`` raises.
        """
        token = params.get("requestState")
        if token is not None:
            server, tool, result = await self._continue(token, arguments, params, era, on_progress)
        else:
            target = await self._router.single_target(name)
            result = await self._router.call(name, arguments, on_progress, on_request)
            if target is None:
                return result  # a fan-out: its legs cannot ask the caller anything
            server, tool = target
        rounds = 0
        while result.get("resultType") == "input_required":
            if era == "modern":
                return self._handed_over(result, server, tool)
            if on_request is None or rounds >= self.max_rounds:
                why = "it declared no capability to answer" if on_request is None else f"after {rounds} rounds"
                return _needs_input(f"tool '{name}' needs input from the agent, which cannot be given ({why})")
            try:
                responses = await _ask_all(result.get("inputRequests"), on_request)
            except ServerRequestDeclined as declined:
                return _needs_input(f"tool '{name}' needs input the agent did not give: {declined.message}")
            extra: dict[str, Any] = {"inputResponses": responses}
            if result.get("requestState") is not None:
                extra["requestState"] = result["requestState"]
            result = await self._router.call_on(server, tool, arguments, extra, on_progress)
            rounds += 1
        return result

    async def _continue(
        self,
        token: Any,
        arguments: dict[str, Any] | None,
        params: dict[str, Any],
        era: Era,
        on_progress: Callable[[dict[str, Any]], None] | None,
    ) -> tuple[str, str, dict[str, Any]]:
        pending = self._codec.open_input(token) if isinstance(token, str) and era == "modern" else None
        if pending is None or pending.subject != current_call().principal.subject:
            raise InvalidRequest("requestState is not valid here (unknown, expired or another caller's); call again")
        extra: dict[str, Any] = {}
        if pending.state is not None:
            extra["requestState"] = pending.state
        if params.get("inputResponses") is not None:
            extra["inputResponses"] = params["inputResponses"]
        result = await self._router.call_on(pending.server, pending.tool, arguments, extra, on_progress)
        return pending.server, pending.tool, result

    def _handed_over(self, result: dict[str, Any], server: str, tool: str) -> dict[str, Any]:
        state = result.get("requestState")
        pending = PendingInput(
            server=server,
            tool=tool,
            state=state if isinstance(state, str) else None,
            subject=current_call().principal.subject,
        )
        return {**result, "requestState": self._codec.seal_input(pending)}


async def _ask_all(requests: Any, on_request: ServerRequestHandler) -> dict[str, Any]:
    if not isinstance(requests, dict):
        return {}
    responses: dict[str, Any] = {}
    for key, request in requests.items():
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            raise ServerRequestDeclined(-32602, f"input request {key!r} is malformed")
        params = request.get("params")
        responses[key] = await on_request(request["method"], params if isinstance(params, dict) else {})
    return responses


def _needs_input(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}
