"""JSON-RPC fuzzing of ``/mcp`` (hypothesis): well-formed, half-formed and hostile messages and headers in both
protocol eras never cause a 5xx or take the gateway down; every error answer is a JSON-RPC error or plain 4xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import assert_alive

pytestmark = pytest.mark.slow

METHODS = [
    "initialize",
    "notifications/initialized",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "subscriptions/listen",
    "notifications/cancelled",
    "logging/setLevel",
    "completion/complete",
]
VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "1999-01-01", ""]
TOOLS = ["echo", "search_logs", "broadcast__echo", "sleep", "fail", "nope"]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
meta = st.fixed_dictionaries(
    {},
    optional={
        "io.modelcontextprotocol/protocolVersion": st.sampled_from(VERSIONS) | json_values,
        "io.modelcontextprotocol/clientInfo": st.just({"name": "fuzz", "version": "1"}) | json_values,
        "io.modelcontextprotocol/clientCapabilities": st.just({}) | json_values,
        "progressToken": st.text(max_size=8) | st.integers(),
    },
)
params = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(TOOLS) | json_values,
        "arguments": st.fixed_dictionaries({}, optional={"text": scalars, "seconds": st.floats(0, 0.05)}) | json_values,
        "uri": st.sampled_from(["logs://alpha/recent", "config://shared", "x://y"]) | json_values,
        "cursor": st.text(max_size=12) | json_values,
        "protocolVersion": st.sampled_from(VERSIONS) | json_values,
        "_meta": meta | json_values,
    },
)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0") | json_values, "method": st.sampled_from(METHODS) | json_values},
    optional={"id": st.integers() | st.text(max_size=6) | json_values, "params": params | json_values},
)
bodies = (
    messages.map(lambda m: json.dumps(m).encode())
    | st.lists(messages, max_size=3).map(lambda m: json.dumps(m).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Accept": st.sampled_from(
            ["application/json, text/event-stream", "application/json", "text/event-stream", "*/*", "text/html"]
        ),
        "Content-Type": st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-8"]),
        "MCP-Protocol-Version": st.sampled_from(VERSIONS),
        "Mcp-Method": st.sampled_from(METHODS),
        "Mcp-Name": st.sampled_from(TOOLS),
        "Mcp-Session-Id": st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
        "Mcp-Param-Text": st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10),
        "Origin": st.sampled_from(["http://localhost:3000", "https://evil.example", "null"]),
    },
)


@st.composite
def plausible(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """A message with the headers a real client would derive from it (so the fuzzer gets past the first rungs)."""
    message = draw(messages)
    version = draw(st.sampled_from(VERSIONS[:5]))
    sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if version == "2026-07-28":
        message_params = message.get("params") if isinstance(message.get("params"), dict) else {}
        message["params"] = {
            **message_params,
            "_meta": {**draw(meta), "io.modelcontextprotocol/protocolVersion": version},
        }
        sent["MCP-Protocol-Version"] = version
        if isinstance(message.get("method"), str):
            sent["Mcp-Method"] = message["method"]
        name = message["params"].get("name")
        if isinstance(name, str) and name.isascii() and name.isprintable():
            sent["Mcp-Name"] = name
    elif draw(st.booleans()):
        sent["MCP-Protocol-Version"] = version
    return json.dumps(message).encode(), sent


def test_hostile_json_rpc_never_yields_a_server_error(gateway_url: str) -> None:
    seen: list[int] = []

    hostile = st.tuples(bodies, headers, st.sampled_from(["POST", "POST", "GET", "DELETE", "PUT"]))
    requests = hostile | plausible().map(lambda pair: (*pair, "POST")) | plausible().map(lambda pair: (*pair, "POST"))

    @given(request=requests)
    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def fuzz(request: tuple[bytes, dict[str, str], str]) -> None:
        body, sent_headers, method = request
        with httpx.Client(timeout=15) as client:
            if method == "GET":
                # A GET may open a long-lived stream: only the status line matters here.
                with client.stream("GET", f"{gateway_url}/mcp", headers=sent_headers) as response:
                    status = response.status_code
            else:
                response = client.request(method, f"{gateway_url}/mcp", content=body, headers=sent_headers)
                status = response.status_code
                _check_answer(response)
        seen.append(status)
        assert status < 500, (method, body, sent_headers, status)

    fuzz()
    assert len(set(seen)) >= 5  # the fuzzer reached many different rules, not one rejection
    assert_alive(gateway_url)


def _check_answer(response: httpx.Response) -> None:
    kind = response.headers.get("content-type", "")
    if response.status_code in {202, 204} or not response.content:
        return
    if kind.startswith("application/json"):
        document: Any = response.json()
        assert isinstance(document, dict)
        assert ("result" in document) != ("error" in document)
        if "error" in document:
            assert isinstance(document["error"]["code"], int)
            assert isinstance(document["error"]["message"], str)
