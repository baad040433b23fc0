"""MCP Gateway: one secure front door through which AI agents reach many MCP servers."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ("__version__",)

try:
    __version__ = version("mcp-gateway")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
