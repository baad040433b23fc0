"""A backend's elicitation during a tool call reaches the agent that declared the capability (handshake era,
official SDK client and SDK backend), and is declined cleanly for agents that did not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from app.asgi import create_app
from app.settings import Settings
from tests.mcp_backends import Backend
from tests.servers import serve_asgi


class Approval(BaseModel):
    approve: bool
    reason: str = ""


async def deploy(service: str, ctx: Context) -> str:
    """Asks the user to approve before deploying ``service``."""
    answer = await ctx.elicit(f"Deploy {service} to production?", schema=Approval)
    if answer.action == "accept" and answer.data is not None:
        return f"{service}: approved={answer.data.approve} ({answer.data.reason})"
    return f"{service}: {answer.action}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def replicas(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
) -> Callable[..., Any]:
    """``async with replicas(kind, tool) as (url_a, url_b)``: two gateways (one secret) over one ``deployer``."""

    @asynccontextmanager
    async def run(kind: str, tool: Callable[..., Any]) -> AsyncIterator[tuple[str, str]]:
        backend = backends("deployer", kind=kind, extra_tools={tool.__name__: tool})
        path = write_servers_file({"servers": {"deployer": {"url": backend.url}}})
        settings = make_settings(mcp_servers_file=str(path), mcp_session_secret="shared")
        with serve_asgi(create_app(settings)) as first, serve_asgi(create_app(settings)) as second:
            yield f"{first}/mcp", f"{second}/mcp"

    return run


@pytest.fixture
def gateway_url(replicas: Callable[..., Any]) -> Callable[..., Any]:
    """A handshake-era backend whose ``deploy`` tool elicits with a server request."""

    @asynccontextmanager
    async def run() -> AsyncIterator[str]:
        async with replicas("legacy", deploy) as (url, _):
            yield url

    return run


async def test_elicitation_is_relayed_to_the_agent_and_its_answer_back(gateway_url: Callable[..., Any]) -> None:
    asked: list[types.ElicitRequestParams] = []

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"approve": True, "reason": "change window open"})

    async with gateway_url() as url, Client(url, mode="legacy", elicitation_callback=on_elicit) as client:
        result = await client.call_tool("deploy", {"service": "billing"})
    assert result.content[0].text == "billing: approved=True (change window open)"
    assert len(asked) == 1
    assert asked[0].message == "Deploy billing to production?"
    assert "approve" in asked[0].requested_schema["properties"]


async def test_a_declined_elicitation_comes_back_as_declined(gateway_url: Callable[..., Any]) -> None:
    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    async with gateway_url() as url, Client(url, mode="legacy", elicitation_callback=on_elicit) as client:
        result = await client.call_tool("deploy", {"service": "billing"})
    assert result.content[0].text == "billing: decline"


async def test_agent_without_the_capability_gets_a_clean_tool_error(gateway_url: Callable[..., Any]) -> None:
    async with gateway_url() as url, Client(url, mode="legacy") as client:
        result = await client.call_tool("deploy", {"service": "billing"})
    assert result.is_error
    assert "did not declare the elicitation capability" in result.content[0].text


# --- 2026-07-28: the backend asks with InputRequiredResult (multi round trip) ------------------


async def approve(service: str, ctx: Context) -> str | types.InputRequiredResult:
    """Deploys ``service`` once the user approved, asking through an InputRequiredResult first."""
    answers = ctx.input_responses or {}
    answer = answers.get("approval")
    if answer is None:
        question = types.ElicitRequest(
            params=types.ElicitRequestFormParams(
                message=f"Deploy {service}?",
                requested_schema={"type": "object", "properties": {"approve": {"type": "boolean"}}},
            )
        )
        return types.InputRequiredResult(input_requests={"approval": question}, request_state=f"asked:{service}")
    assert ctx.request_state == f"asked:{service}"
    assert isinstance(answer, types.ElicitResult)
    return f"{service}: {answer.action} {answer.content}"


@pytest.fixture
def modern_gateway(replicas: Callable[..., Any]) -> Callable[..., Any]:
    """A 2026-07-28 backend whose ``approve`` tool asks with an InputRequiredResult."""
    return lambda: replicas("stateless", approve)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_input_required_reaches_the_agent_in_either_era(modern_gateway: Callable[..., Any], mode: str) -> None:
    asked: list[str] = []

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})

    async with modern_gateway() as (url, _), Client(url, mode=mode, elicitation_callback=on_elicit) as client:
        result = await client.call_tool("approve", {"service": "billing"})
    assert asked == ["Deploy billing?"]
    assert result.content[0].text == "billing: accept {'approve': True}"


async def test_request_state_is_the_gateways_and_works_on_another_replica(modern_gateway: Callable[..., Any]) -> None:
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "approve",
    }
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
    }
    call = {"name": "approve", "arguments": {"service": "api"}, "_meta": meta}
    async with modern_gateway() as (first, second), httpx.AsyncClient(timeout=30) as http:
        asked = (
            await http.post(
                first, json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}, headers=headers
            )
        ).json()["result"]
        assert asked["resultType"] == "input_required"
        assert asked["inputRequests"]["approval"]["method"] == "elicitation/create"
        assert asked["requestState"] != "asked:api"  # sealed by the gateway, not the backend's own
        retry = {**call, "inputResponses": {"approval": {"action": "decline"}}, "requestState": asked["requestState"]}
        done = await http.post(
            second, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": retry}, headers=headers
        )
        forged = {**retry, "requestState": asked["requestState"][:-4] + "AAAA"}
        refused = await http.post(
            first, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": forged}, headers=headers
        )
    assert done.json()["result"]["content"][0]["text"] == "api: decline None"
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == -32602
    assert "requestState is not valid" in refused.json()["error"]["message"]
