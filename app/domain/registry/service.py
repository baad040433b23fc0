"""RegistryService: which backend servers exist, from the servers file and from the API/CLI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from app.db.models import ServerRecord
from app.domain.registry.config import ServerConfig, check_server_name
from app.errors import ConfigError, InvalidRequest, ServerAlreadyExists, ServerManagedByFile, ServerNotFound
from app.validation import describe_validation_error

__all__ = ("RegisteredServer", "RegistryService", "SyncReport")

Source = Literal["file", "api"]


class RegisteredServer(msgspec.Struct, frozen=True, kw_only=True):
    """A server as the registry knows it: its name, where it came from, and its configuration."""

    name: str
    source: Source
    config: ServerConfig
    created_at: datetime
    updated_at: datetime


class SyncReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a servers-file sync changed in the ``servers`` table."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


class RegistryService(SQLAlchemyAsyncRepositoryService[ServerRecord]):
    """Reads and changes the server registry; the caller's session decides when to commit."""

    class Repo(SQLAlchemyAsyncRepository[ServerRecord]):
        model_type = ServerRecord

    repository_type = Repo

    async def list_servers(self) -> list[RegisteredServer]:
        """Every registered server, ordered by name."""
        records = await self.repository.get_many(order_by=[ServerRecord.name.asc()])
        return [_registered(record) for record in records]

    async def get_server(self, name: str) -> RegisteredServer:
        """The server called ``name``.

        Raises:
            ServerNotFound: no such server.
        """
        return _registered(await self._get_record(name))

    async def register(self, name: str, config: ServerConfig) -> RegisteredServer:
        """Add a server through the API/CLI (``source=api``).

        Raises:
            ServerAlreadyExists: the name is taken (by the file or the API).
        """
        try:
            check_server_name(name)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        existing = await self.repository.get_one_or_none(name=name)
        if existing is not None:
            raise ServerAlreadyExists(name, existing.source)
        record = await self.repository.add(ServerRecord(name=name, source="api", **_columns(config)))
        return _registered(record)

    async def reconfigure(self, name: str, changes: Mapping[str, Any]) -> RegisteredServer:
        """Apply a partial change (keys of the servers-file schema) to an API-registered server.

        Raises:
            ServerNotFound: no such server.
            ServerManagedByFile: the server comes from the servers file.
            InvalidRequest: the changed configuration is invalid; the message names the key.
        """
        record = await self._get_mutable_record(name)
        merged = {**msgspec.to_builtins(_registered(record).config), **changes}
        try:
            config = msgspec.convert(merged, ServerConfig)
        except msgspec.ValidationError as exc:
            raise InvalidRequest(describe_validation_error(exc)) from None
        for column, value in _columns(config).items():
            setattr(record, column, value)
        return _registered(await self.repository.update(record))

    async def set_enabled(self, name: str, enabled: bool) -> RegisteredServer:
        """Enable or disable an API-registered server."""
        return await self.reconfigure(name, {"enabled": enabled})

    async def remove(self, name: str) -> None:
        """Delete an API-registered server.

        Raises:
            ServerNotFound: no such server.
            ServerManagedByFile: the server comes from the servers file.
        """
        record = await self._get_mutable_record(name)
        await self.repository.delete(record.id)

    async def sync_file_servers(self, servers: Mapping[str, ServerConfig]) -> SyncReport:
        """Make the ``source=file`` rows equal the servers file: add, update, and drop removed ones.

        Raises:
            ConfigError: a file server's name is already taken by an API-registered server.
        """
        existing = {record.name: record for record in await self.repository.get_many()}
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        for name, config in servers.items():
            columns = _columns(config)
            record = existing.get(name)
            if record is None:
                await self.repository.add(ServerRecord(name=name, source="file", **columns))
                added.append(name)
            elif record.source != "file":
                msg = (
                    f"server '{name}' in the servers file clashes with a server registered through the API; "
                    f"rename one of them (or run `mcp-gateway servers remove {name}`)"
                )
                raise ConfigError(msg)
            elif any(getattr(record, column) != value for column, value in columns.items()):
                for column, value in columns.items():
                    setattr(record, column, value)
                await self.repository.update(record)
                updated.append(name)
            else:
                unchanged.append(name)
        removed = sorted(name for name, r in existing.items() if r.source == "file" and name not in servers)
        if removed:
            await self.repository.delete_many([existing[name].id for name in removed])
        return SyncReport(
            added=tuple(added), updated=tuple(updated), removed=tuple(removed), unchanged=tuple(unchanged)
        )

    async def _get_record(self, name: str) -> ServerRecord:
        record: ServerRecord | None = await self.repository.get_one_or_none(name=name)
        if record is None:
            raise ServerNotFound(name)
        return record

    async def _get_mutable_record(self, name: str) -> ServerRecord:
        record = await self._get_record(name)
        if record.source == "file":
            raise ServerManagedByFile(name)
        return record


def _columns(config: ServerConfig) -> dict[str, Any]:
    """The ``servers`` columns for ``config`` (JSON columns hold plain builtins)."""
    return {
        "url": config.url,
        "type": config.type,
        "timeout": config.timeout,
        "enabled": config.enabled,
        "description": config.description,
        "tags": list(config.tags),
        "tools": list(config.tools) if config.tools is not None else None,
        "extra": dict(config.metadata),
        "auth": msgspec.to_builtins(config.auth) if config.auth is not None else None,
        "access": msgspec.to_builtins(config.access) if config.access is not None else None,
    }


def _registered(record: ServerRecord) -> RegisteredServer:
    config = msgspec.convert(
        {
            "url": record.url,
            "type": record.type,
            "timeout": record.timeout,
            "enabled": record.enabled,
            "description": record.description,
            "tags": record.tags,
            "tools": record.tools,
            "metadata": record.extra,
            "auth": record.auth,
            "access": record.access,
        },
        ServerConfig,
    )
    source: Source = "file" if record.source == "file" else "api"
    return RegisteredServer(
        name=record.name, source=source, config=config, created_at=record.created_at, updated_at=record.updated_at
    )
