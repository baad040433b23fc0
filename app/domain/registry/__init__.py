"""The server registry: servers-file schema and loading, and the RegistryService over the DB."""

from __future__ import annotations

from app.domain.registry.config import AccessConfig, AuthConfig, ServerConfig, ServerRegistration
from app.domain.registry.servers_file import load_servers_file
from app.domain.registry.service import RegisteredServer, RegistryService, SyncReport

__all__ = (
    "AccessConfig",
    "AuthConfig",
    "RegisteredServer",
    "RegistryService",
    "ServerConfig",
    "ServerRegistration",
    "SyncReport",
    "load_servers_file",
)
