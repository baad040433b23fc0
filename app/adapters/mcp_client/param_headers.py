"""``x-mcp-header`` (2026-07-28): which tool arguments also travel as ``Mcp-Param-*`` headers.

A backend's schema annotates properties with ``x-mcp-header: <token>``; a modern-era client must
send ``Mcp-Param-<token>`` with that argument's value, and must drop (and log) tools whose
annotations break the rules (mcp-protocol-notes §3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.adapters.mcp_client.protocol import encode_header_value

__all__ = ("ParamHeaders", "param_header_values", "param_headers_of")

ParamHeaders = tuple[tuple[tuple[str, ...], str], ...]
"""``((path to the argument, header token), …)`` for one tool."""

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_ALLOWED_TYPES = frozenset({"string", "integer", "boolean"})
_MAX_SAFE_INTEGER = 2**53 - 1
_KEY = "x-mcp-header"


def param_headers_of(input_schema: Any) -> ParamHeaders:
    """The annotated arguments of a tool's ``inputSchema``.

    Raises:
        ValueError: an annotation breaks a rule; the message says which (the tool must be dropped).
    """
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(input_schema, Mapping):
        _walk_properties(input_schema, (), found)
    total = _count_annotations(input_schema)
    if total != len(found):
        msg = "x-mcp-header appears where it is not allowed (only under plain 'properties' paths)"
        raise ValueError(msg)
    lowered = [token.lower() for _, token in found]
    if len(set(lowered)) != len(lowered):
        msg = "x-mcp-header tokens repeat (case-insensitively)"
        raise ValueError(msg)
    return tuple(found)


def param_header_values(headers: ParamHeaders, arguments: Mapping[str, Any] | None) -> dict[str, str]:
    """``{"mcp-param-<token>": encoded value}`` for the annotated arguments present and not null."""
    values: dict[str, str] = {}
    for path, token in headers:
        value: Any = arguments or {}
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            continue
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int) and abs(value) <= _MAX_SAFE_INTEGER:
            rendered = str(value)
        elif isinstance(value, str):
            rendered = value
        else:
            continue  # the backend will reject the argument itself; no header can represent it
        values[f"mcp-param-{token}"] = encode_header_value(rendered)
    return values


def _walk_properties(
    schema: Mapping[str, Any], path: tuple[str, ...], found: list[tuple[tuple[str, ...], str]]
) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return
    for name, prop in properties.items():
        if not isinstance(prop, Mapping):
            continue
        here = (*path, str(name))
        if _KEY in prop:
            token = prop[_KEY]
            if not isinstance(token, str) or not _TOKEN.match(token):
                msg = f"x-mcp-header of '{'.'.join(here)}' is not an HTTP token"
                raise ValueError(msg)
            if prop.get("type") not in _ALLOWED_TYPES:
                msg = f"x-mcp-header on '{'.'.join(here)}' whose type is not string, integer or boolean"
                raise ValueError(msg)
            found.append((here, token))
        _walk_properties(prop, here, found)


def _count_annotations(node: Any) -> int:
    if isinstance(node, Mapping):
        return sum((1 if key == _KEY else 0) + _count_annotations(value) for key, value in node.items())
    if isinstance(node, list):
        return sum(_count_annotations(item) for item in node)
    return 0
