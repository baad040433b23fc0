"""The tool catalog: per-server tool lists (cached) and the aggregated view with broadcast tools."""

from __future__ import annotations

from app.domain.catalog.aggregate import Catalog, ToolRoute, aggregate, tag_tool_name
from app.domain.catalog.catalog import ToolCatalog
from app.domain.catalog.entries import ServerStatus, ServerTools

__all__ = ("Catalog", "ServerStatus", "ServerTools", "ToolCatalog", "ToolRoute", "aggregate", "tag_tool_name")
