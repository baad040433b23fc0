"""Two small example MCP backends ("log clusters") that ``mcp-gateway serve --demo`` starts next to the gateway."""

from __future__ import annotations

from app.demo.backend import create_demo_backend
from app.demo.runner import DemoBackends, start_demo_backends

__all__ = ("DemoBackends", "create_demo_backend", "start_demo_backends")
