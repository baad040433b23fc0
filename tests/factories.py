"""polyfactory factories for valid configuration objects."""

from __future__ import annotations

from typing import Any

from polyfactory.factories.msgspec_factory import MsgspecFactory

from app.domain.registry import AuthConfig, ServerConfig

__all__ = ("ServerConfigFactory",)


class ServerConfigFactory(MsgspecFactory[ServerConfig]):
    url = "https://mcp.example.com/mcp"
    type = "streamable-http"

    @classmethod
    def timeout(cls) -> float:
        return cls.__random__.uniform(0.1, 3600)

    @classmethod
    def tags(cls) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cls.__faker__.word() for _ in range(3)))

    @classmethod
    def tools(cls) -> tuple[str, ...]:
        return tuple(cls.__faker__.word() for _ in range(2))

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {"owner": cls.__faker__.user_name(), "tier": cls.__random__.randint(1, 3)}

    @classmethod
    def auth(cls) -> AuthConfig:
        return AuthConfig(method="bearer", format="prefix", prefix="Bearer ", credential_ref="env://TOKEN")
