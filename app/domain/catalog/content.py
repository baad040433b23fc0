"""Resources, resource templates and prompts of every backend, merged into one view with routing maps.

Clash rules (deterministic: servers are taken in name order):
- a resource URI or template offered by several servers belongs to the first; later copies are hidden;
- a prompt name offered by several servers stays with the first; the others are listed as
  ``<server>__<name>`` so every prompt stays reachable.
Every listed item's ``_meta`` names its server under ``dev.mcp-gateway/server``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ("SERVER_META_KEY", "ContentCatalog", "aggregate_content")

SERVER_META_KEY = "dev.mcp-gateway/server"
_VARIABLE = re.compile(r"\{([+#./;?&]?)([^}]+)\}")


class ContentCatalog(msgspec.Struct, frozen=True):
    resources: list[dict[str, Any]]
    templates: list[dict[str, Any]]
    prompts: list[dict[str, Any]]
    resource_servers: dict[str, str]
    """Exact URI → server."""
    template_servers: list[tuple[str, str]]
    """(regular expression for the template's URIs, server), in listing order."""
    prompt_routes: dict[str, tuple[str, str]]
    """Listed prompt name → (server, the backend's own name)."""

    def server_for_uri(self, uri: str) -> str | None:
        """The server that listed ``uri``, else the first whose template matches it."""
        if uri in self.resource_servers:
            return self.resource_servers[uri]
        return next((server for pattern, server in self.template_servers if re.fullmatch(pattern, uri)), None)


def aggregate_content(listings: Mapping[str, Mapping[str, list[dict[str, Any]]]]) -> ContentCatalog:
    """``listings``: server → {"resources": […], "templates": […], "prompts": […]}."""
    resources: list[dict[str, Any]] = []
    templates: list[dict[str, Any]] = []
    prompts: list[dict[str, Any]] = []
    resource_servers: dict[str, str] = {}
    template_servers: list[tuple[str, str]] = []
    seen_templates: set[str] = set()
    prompt_routes: dict[str, tuple[str, str]] = {}
    for server in sorted(listings):
        listing = listings[server]
        for resource in listing.get("resources", []):
            uri = resource.get("uri")
            if isinstance(uri, str) and uri not in resource_servers:
                resource_servers[uri] = server
                resources.append(_stamped(resource, server))
        for template in listing.get("templates", []):
            uri_template = template.get("uriTemplate")
            if isinstance(uri_template, str) and uri_template not in seen_templates:
                seen_templates.add(uri_template)
                template_servers.append((_template_pattern(uri_template), server))
                templates.append(_stamped(template, server))
        for prompt in listing.get("prompts", []):
            name = prompt.get("name")
            if not isinstance(name, str):
                continue
            listed = name if name not in prompt_routes else f"{server}__{name}"
            prompt_routes[listed] = (server, name)
            prompts.append(_stamped(prompt, server) | {"name": listed})
    return ContentCatalog(
        resources=resources,
        templates=templates,
        prompts=sorted(prompts, key=lambda p: p["name"]),
        resource_servers=resource_servers,
        template_servers=template_servers,
        prompt_routes=prompt_routes,
    )


def _stamped(item: dict[str, Any], server: str) -> dict[str, Any]:
    copied = copy.deepcopy(item)
    copied["_meta"] = {**(copied.get("_meta") or {}), SERVER_META_KEY: server}
    return copied


def _template_pattern(uri_template: str) -> str:
    """A regular expression matching the URIs an RFC 6570 template can expand to (one segment per variable;
    reserved expansions ``{+x}``/``{#x}`` may span slashes)."""
    parts: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(uri_template):
        parts.append(re.escape(uri_template[position : match.start()]))
        parts.append(".*" if match.group(1) in {"+", "#"} else "[^/]*")
        position = match.end()
    parts.append(re.escape(uri_template[position:]))
    return "".join(parts)
