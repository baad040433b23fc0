"""Load and validate ``mcp_servers.yaml``; every error names the file, the server and the key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml

from app.domain.registry.config import ServerConfig, check_server_name
from app.errors import ConfigError
from app.validation import describe_validation_error

__all__ = ("load_servers_file", "parse_servers_document")

_TOP_LEVEL_KEYS = frozenset({"servers"})


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate mapping keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                msg = f"duplicate key {key!r} at line {mark.line + 1}, column {mark.column + 1}"
                raise yaml.constructor.ConstructorError(None, None, msg, mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_servers_file(path: str | Path) -> dict[str, ServerConfig]:
    """Read and validate a servers file.

    Raises:
        ConfigError: the file is missing, not YAML, or breaks the schema; the message names what.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: servers file not found (set MCP_SERVERS_FILE, or MCP_SERVERS_FILE= to run without one)"
        raise ConfigError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read servers file: {exc}"
        raise ConfigError(msg) from None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg) from None
    return parse_servers_document(document, source=str(path))


def parse_servers_document(document: Any, source: str) -> dict[str, ServerConfig]:
    """Validate an already-parsed servers document (``{"servers": {name: {...}}}``)."""
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        msg = f"{source}: the top level must be a mapping with a 'servers' key"
        raise ConfigError(msg)
    unknown = sorted(str(k) for k in document if k not in _TOP_LEVEL_KEYS)
    if unknown:
        msg = f"{source}: unknown top-level key '{unknown[0]}' (allowed: servers)"
        raise ConfigError(msg)
    servers = document.get("servers") or {}
    if not isinstance(servers, Mapping):
        msg = f"{source}: 'servers' must be a mapping of server name to settings"
        raise ConfigError(msg)
    configs: dict[str, ServerConfig] = {}
    for name, body in servers.items():
        try:
            check_server_name(str(name))
        except ValueError as exc:
            msg = f"{source}: {exc}"
            raise ConfigError(msg) from None
        if not isinstance(body, Mapping):
            msg = f"{source}: server '{name}': settings must be a mapping with at least 'url'"
            raise ConfigError(msg)
        try:
            configs[str(name)] = msgspec.convert(body, ServerConfig)
        except msgspec.ValidationError as exc:
            msg = f"{source}: server '{name}': {describe_validation_error(exc)}"
            raise ConfigError(msg) from None
    return configs
