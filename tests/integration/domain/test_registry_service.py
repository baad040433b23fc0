from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.registry import AuthConfig, RegistryService, ServerConfig
from app.errors import ConfigError, InvalidRequest, ServerAlreadyExists, ServerManagedByFile, ServerNotFound
from tests.factories import ServerConfigFactory


def server(url: str = "https://a.example.com/mcp", **kwargs: object) -> ServerConfig:
    return msgspec.convert({"url": url, **kwargs}, ServerConfig)


async def test_sync_adds_updates_and_removes_file_servers(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        registry = RegistryService(session=session)
        first = await registry.sync_file_servers({"a": server(), "b": server(tags=["x"])})
        await session.commit()
    assert first.added == ("a", "b")

    async with sessions() as session:
        registry = RegistryService(session=session)
        second = await registry.sync_file_servers({"a": server(), "b": server(tags=["y"]), "c": server()})
        await session.commit()
    assert (second.added, second.updated, second.unchanged, second.removed) == (("c",), ("b",), ("a",), ())

    async with sessions() as session:
        registry = RegistryService(session=session)
        third = await registry.sync_file_servers({"c": server()})
        await session.commit()
        names = [s.name for s in await registry.list_servers()]
    assert third.removed == ("a", "b")
    assert names == ["c"]


async def test_sync_keeps_api_servers_and_refuses_a_name_clash(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        registry = RegistryService(session=session)
        await registry.register("api-one", server())
        await registry.sync_file_servers({})
        await session.commit()
        assert [s.name for s in await registry.list_servers()] == ["api-one"]
        with pytest.raises(ConfigError, match="'api-one' in the servers file clashes"):
            await registry.sync_file_servers({"api-one": server()})


async def test_register_reconfigure_enable_and_remove(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        registry = RegistryService(session=session)
        created = await registry.register("svc", server(description="first"))
        assert created.source == "api"
        changed = await registry.reconfigure("svc", {"description": "second", "tags": ["t1"]})
        assert (changed.config.description, changed.config.tags) == ("second", ("t1",))
        assert (await registry.set_enabled("svc", False)).config.enabled is False
        await session.commit()

    async with sessions() as session:
        registry = RegistryService(session=session)
        stored = await registry.get_server("svc")
        assert (stored.config.description, stored.config.enabled) == ("second", False)
        await registry.remove("svc")
        await session.commit()
        with pytest.raises(ServerNotFound):
            await registry.get_server("svc")


async def test_invalid_changes_name_the_key_and_change_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        registry = RegistryService(session=session)
        await registry.register("svc", server(timeout=5))
        with pytest.raises(InvalidRequest, match="unknown key 'name'"):
            await registry.reconfigure("svc", {"name": "other"})
        with pytest.raises(InvalidRequest, match="timeout must be between"):
            await registry.reconfigure("svc", {"timeout": 0})
        assert (await registry.get_server("svc")).config.timeout == 5


async def test_file_servers_cannot_be_changed_through_the_registry(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        registry = RegistryService(session=session)
        await registry.sync_file_servers({"f": server()})
        with pytest.raises(ServerManagedByFile):
            await registry.set_enabled("f", False)
        with pytest.raises(ServerManagedByFile):
            await registry.remove("f")
        with pytest.raises(ServerAlreadyExists, match="in the servers file"):
            await registry.register("f", server())
        with pytest.raises(InvalidRequest, match="invalid server name"):
            await registry.register("no spaces", server())


@pytest.mark.parametrize("seed", range(5))
async def test_any_valid_config_round_trips_through_the_database(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    ServerConfigFactory.seed_random(seed)
    config = ServerConfigFactory.build()
    async with sessions() as session:
        await RegistryService(session=session).register("rt", config)
        await session.commit()
    async with sessions() as session:
        assert (await RegistryService(session=session).get_server("rt")).config == config


async def test_only_credential_references_reach_the_database(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", "tok-VALUE-123")
    auth = AuthConfig(method="bearer", format="prefix", prefix="Bearer ", credential_ref="env://BACKEND_TOKEN")
    async with sessions() as session:
        await RegistryService(session=session).register("sec", server(auth=msgspec.to_builtins(auth)))
        await session.commit()
        rows = (await session.execute(text("SELECT * FROM servers"))).all()
    dumped = repr(rows)
    assert "env://BACKEND_TOKEN" in dumped
    assert "tok-VALUE-123" not in dumped
