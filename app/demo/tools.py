"""The demo clusters' tools: ``search_logs`` (on every cluster) and ``cluster_health_<region>`` (on one).

The log lines are a fixed built-in sample per region; only their timestamps move, relative to now, so the
same query always finds the same lines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

__all__ = ("DemoTools", "UnknownToolError")

Level = Literal["error", "warning", "info"]
_LEVELS: tuple[Level, ...] = ("error", "warning", "info")


class _Line(NamedTuple):
    minutes_ago: int
    level: Level
    service: str
    message: str


_SAMPLE_LOGS: dict[str, tuple[_Line, ...]] = {
    "us": (
        _Line(3, "error", "campaign-service", "Campaign 'spring-sale' failed: audience export timed out"),
        _Line(7, "warning", "campaign-service", "Campaign 'spring-sale' retrying audience export (attempt 2)"),
        _Line(12, "info", "campaign-service", "Campaign 'spring-sale' scheduled for 10:00 UTC"),
        _Line(18, "error", "billing-service", "Payment provider returned 503 for invoice INV-2291"),
        _Line(26, "warning", "api-gateway", "Upstream timeout calling audience-service after 5000 ms"),
        _Line(45, "info", "api-gateway", "Deployed release 2026.11.3 to us-east"),
    ),
    "eu": (
        _Line(2, "error", "event-service", "Event service timeout: consumer lag above 30 s on topic user-events"),
        _Line(4, "error", "event-service", "Dropped 1,204 user events after retries were exhausted"),
        _Line(9, "warning", "event-service", "Consumer group 'segments' rebalancing"),
        _Line(15, "info", "campaign-service", "Campaign 'spring-sale' audience segment refreshed"),
        _Line(33, "warning", "campaign-service", "Campaign 'newsletter-nov' send failed for 12 recipients"),
        _Line(50, "info", "event-service", "Topic user-events partitions increased to 24"),
    ),
}
"""Sample lines per region; any other region gets the US sample."""

_HEALTH: dict[str, tuple[str, int]] = {"us": ("green", 3), "eu": ("yellow", 5)}
"""Per region: status and node count reported by ``cluster_health_<region>``."""


class UnknownToolError(Exception):
    """The cluster has no tool of that name."""


class _SearchLogsArguments(msgspec.Struct, forbid_unknown_fields=True):
    query: str
    timeframe: Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]*[mhd]$")] = "1h"
    level: Level | None = None


class _NoArguments(msgspec.Struct, forbid_unknown_fields=True):
    pass


def _definitions(cluster: str, region: str) -> list[dict[str, Any]]:
    log_entry = {
        "type": "object",
        "properties": {
            "timestamp": {"type": "string", "format": "date-time"},
            "level": {"type": "string", "enum": list(_LEVELS)},
            "service": {"type": "string"},
            "message": {"type": "string"},
        },
        "required": ["timestamp", "level", "service", "message"],
    }
    return [
        {
            "name": "search_logs",
            "title": "Search logs",
            "description": (
                f"Search the {region.upper()} log cluster ({cluster}) for lines containing every query word "
                "(case-insensitive; level and service names count). An empty query lists every line."
            ),
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Words that must all appear in a line."},
                    "timeframe": {
                        "type": "string",
                        "description": "How far back to look: minutes, hours or days, e.g. 15m, 1h, 2d.",
                        "pattern": "^[1-9][0-9]*[mhd]$",
                        "default": "1h",
                    },
                    "level": {"type": "string", "enum": list(_LEVELS), "description": "Only lines of this level."},
                },
                "required": ["query"],
                "additionalProperties": False,
            },
            "outputSchema": {
                "type": "object",
                "properties": {
                    "cluster": {"type": "string"},
                    "region": {"type": "string"},
                    "logs": {"type": "array", "items": log_entry},
                    "count": {"type": "integer", "minimum": 0},
                },
                "required": ["cluster", "region", "logs", "count"],
            },
            "annotations": {"readOnlyHint": True, "openWorldHint": False},
        },
        {
            "name": f"cluster_health_{region}",
            "title": f"Cluster health ({region.upper()})",
            "description": f"Status and node count of the {region.upper()} log cluster ({cluster}).",
            "inputSchema": {"type": "object", "properties": {}, "additionalProperties": False},
            "outputSchema": {
                "type": "object",
                "properties": {
                    "cluster": {"type": "string"},
                    "region": {"type": "string"},
                    "status": {"type": "string", "enum": ["green", "yellow", "red"]},
                    "nodes": {"type": "integer", "minimum": 0},
                },
                "required": ["cluster", "region", "status", "nodes"],
            },
            "annotations": {"readOnlyHint": True, "openWorldHint": False},
        },
    ]


def _structured(document: dict[str, Any]) -> dict[str, Any]:
    text = msgspec.json.encode(document).decode()
    return {"content": [{"type": "text", "text": text}], "structuredContent": document, "isError": False}


def _failed(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


class DemoTools:
    """The tools of one demo cluster: their definitions for ``tools/list`` and their ``tools/call`` results."""

    __slots__ = ("cluster", "definitions", "region")

    def __init__(self, cluster: str, region: str) -> None:
        self.cluster = cluster
        """Cluster name, reported in every result."""
        self.region = region
        """Region, which picks the sample lines and names the cluster-specific tool."""
        self.definitions = _definitions(cluster, region)
        """The ``tools`` of the ``tools/list`` result."""

    def call(self, name: str, arguments: msgspec.Raw) -> dict[str, Any]:
        """The ``CallToolResult`` of ``name``; bad arguments give an ``isError`` result naming the argument.

        Raises:
            UnknownToolError: the cluster has no tool ``name``.
        """
        if name == "search_logs":
            try:
                search = msgspec.json.decode(arguments or b"{}", type=_SearchLogsArguments)
            except msgspec.DecodeError as exc:
                return _failed(f"Invalid arguments for search_logs: {exc}")
            return _structured(self._search(search))
        if name == f"cluster_health_{self.region}":
            try:
                msgspec.json.decode(arguments or b"{}", type=_NoArguments)
            except msgspec.DecodeError as exc:
                return _failed(f"Invalid arguments for {name} (it takes none): {exc}")
            status, nodes = _HEALTH.get(self.region, ("green", 3))
            return _structured({"cluster": self.cluster, "region": self.region, "status": status, "nodes": nodes})
        raise UnknownToolError(name)

    def _search(self, arguments: _SearchLogsArguments) -> dict[str, Any]:
        per_unit = {"m": 1, "h": 60, "d": 24 * 60}
        window = int(arguments.timeframe[:-1]) * per_unit[arguments.timeframe[-1]]
        words = arguments.query.lower().split()
        now = datetime.now(UTC).replace(microsecond=0)
        logs = [
            {
                "timestamp": (now - timedelta(minutes=line.minutes_ago)).isoformat().replace("+00:00", "Z"),
                "level": line.level,
                "service": line.service,
                "message": line.message,
            }
            for line in _SAMPLE_LOGS.get(self.region, _SAMPLE_LOGS["us"])
            if line.minutes_ago <= window
            and arguments.level in (None, line.level)
            and all(word in f"{line.level} {line.service} {line.message}".lower() for word in words)
        ]
        return {"cluster": self.cluster, "region": self.region, "logs": logs, "count": len(logs)}
