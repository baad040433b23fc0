"""Two example MCP backends ("log clusters") that ``mcp-gateway serve --demo`` starts next to the gateway.

``demo-logs-us`` (127.0.0.1:9101, no auth) and ``demo-logs-eu`` (127.0.0.1:9102, bearer token from
``DEMO_LOGS_EU_TOKEN``) both offer ``search_logs`` and are tagged ``logging`` in the shipped ``mcp_servers.yaml``,
so list, invoke and broadcast work on a fresh machine.
"""

from __future__ import annotations

from app.demo.backend import create_demo_backend
from app.demo.runner import DemoBackends, start_demo_backends

__all__ = ("DemoBackends", "create_demo_backend", "start_demo_backends")
