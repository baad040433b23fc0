"""A benchmark backend: the official SDK's MCPServer, stateless JSON mode, one ``echo`` tool.

Run: ``python -m tests.benchmarks.echo_backend PORT``.
"""

from __future__ import annotations

import sys

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings


def main() -> None:
    server = MCPServer("echo-backend")

    @server.tool(description="Echo the text back.")
    def echo(text: str) -> str:
        return text

    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
