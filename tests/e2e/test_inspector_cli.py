"""The MCP Inspector CLI (npm ``@modelcontextprotocol/inspector-cli``) lists and calls tools through the gateway.

``.ci/run`` installs it and sets ``MCP_INSPECTOR_CLI`` to its ``build/index.js``; elsewhere the test is
skipped with a reason unless ``CI`` is set (then a missing CLI is a failure).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mcp_backends import Backend

pytestmark = pytest.mark.slow


@pytest.fixture
def inspector() -> Callable[..., dict]:
    script = os.environ.get("MCP_INSPECTOR_CLI")
    node = shutil.which("node")
    if not script or not node or not Path(script).is_file():
        message = "MCP Inspector CLI not installed (set MCP_INSPECTOR_CLI to its build/index.js; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    def run(url: str, *args: str) -> dict:
        # The CLI reads ../package.json relative to the working directory: run it from its build folder.
        result = subprocess.run(
            [node, script, url, "--transport", "http", *args],
            cwd=Path(script).parent, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    return run


def test_inspector_lists_and_calls_tools_through_the_gateway(
    backends: Callable[..., Backend], inspector: Callable[..., dict], serve_gateway: Callable[..., str], tmp_path: Path
) -> None:
    # `backends` first: fixtures stop in reverse order, so the gateway goes before the backends it holds open.
    a, b = backends("a"), backends("b", kind="legacy")
    (tmp_path / "mcp_servers.yaml").write_text(f"servers:\n  a:\n    url: {a.url}\n  b:\n    url: {b.url}\n")
    url = serve_gateway() + "/mcp"
    tools = {t["name"] for t in inspector(url, "--method", "tools/list")["tools"]}
    assert {"echo", "search_logs", "broadcast__search_logs"} <= tools
    result = inspector(url, "--method", "tools/call", "--tool-name", "search_logs", "--tool-arg", "query=outage")
    assert result["content"][0]["text"] == "Successfully executed 'search_logs' on 2/2 servers"
    assert set(json.loads(result["content"][1]["resource"]["text"])["results"]) == {"a", "b"}
