"""A real third-party backend behind the gateway: ``@modelcontextprotocol/server-everything`` (npm),
in its Streamable HTTP mode, driven through ``/mcp`` by the official Python SDK client.

``.ci/run`` installs it and sets ``MCP_SERVER_EVERYTHING`` to its ``dist/index.js``; elsewhere the
test is skipped with a reason unless ``CI`` is set (then it fails).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def everything_url() -> Iterator[str]:
    script, node = os.environ.get("MCP_SERVER_EVERYTHING"), shutil.which("node")
    if not script or not node or not Path(script).is_file():
        message = "server-everything not installed (set MCP_SERVER_EVERYTHING to its dist/index.js; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [node, script, "streamableHttp"],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("server-everything did not start")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_server_everything_through_the_gateway(
    everything_url: str, serve_gateway: Callable[..., str], tmp_path: Path, mode: str
) -> None:
    (tmp_path / "mcp_servers.yaml").write_text(f"servers:\n  everything:\n    url: {everything_url}\n    timeout: 30\n")
    url = serve_gateway() + "/mcp"
    async with Client(url, mode=mode) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"echo", "get-sum", "get-tiny-image"} <= tools
        echoed = await client.call_tool("echo", {"message": "through the gateway"})
        assert echoed.content[0].text == "Echo: through the gateway"
        summed = await client.call_tool("get-sum", {"a": 20, "b": 22})
        assert "42" in summed.content[0].text
        image = await client.call_tool("get-tiny-image", {})
        assert any(item.type == "image" for item in image.content)
        resources = (await client.list_resources()).resources
        assert resources
        read = await client.read_resource(str(resources[0].uri))
        assert read.contents
        assert (await client.list_resource_templates()).resource_templates
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert {"simple-prompt", "args-prompt"} <= prompts
        prompt = await client.get_prompt("args-prompt", {"city": "Lisbon"})
        assert "Lisbon" in prompt.messages[0].content.text


async def test_server_everything_elicitation_reaches_a_handshake_agent(
    everything_url: str, serve_gateway: Callable[..., str], tmp_path: Path
) -> None:
    (tmp_path / "mcp_servers.yaml").write_text(f"servers:\n  everything:\n    url: {everything_url}\n    timeout: 30\n")
    url = serve_gateway() + "/mcp"
    asked: list[str] = []

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada Lovelace", "check": True})

    async with Client(url, mode="legacy", elicitation_callback=on_elicit) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "trigger-elicitation-request" in tools
        result = await client.call_tool("trigger-elicitation-request", {})
    async with Client(url, mode="auto", elicitation_callback=on_elicit) as modern:
        # A handshake-era backend asks with a server request, which a 2026-07-28 caller cannot receive.
        refused = await modern.call_tool("trigger-elicitation-request", {})
    assert asked == ["Please provide inputs for the following fields:"]
    text = " ".join(item.text for item in result.content if item.type == "text")
    assert "Ada Lovelace" in text
    assert not result.is_error
    assert refused.is_error
    assert "cannot relay elicitation/create" in refused.content[0].text
