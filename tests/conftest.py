"""Shared fixtures: real databases (SQLite files and a real PostgreSQL), settings, the app and a client.

PostgreSQL: ``TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) names a server
where the suite may create databases. Each run creates its own database and drops it at the end.
When the server cannot be reached the PostgreSQL cases are skipped with a loud reason, except under
CI (``CI`` set), where that is a failure: CI must never pass by silently skipping them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from app.asgi import create_app
from app.db.engine import create_engine
from app.db.migrations import upgrade_database
from app.settings import Settings

pytest_plugins = ["tests.mcp_backends"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


async def admin_execute(sql: str) -> None:
    connection = await asyncpg.connect(_admin_url(), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_database_factory() -> Iterator[Callable[[], str]]:
    """Creates fresh, empty PostgreSQL databases (dropped at the end of the session); returns their URLs."""
    try:
        asyncio.run(admin_execute("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL not reachable at {_admin_url()} ({exc}); set TEST_POSTGRES_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    created: list[str] = []

    def create() -> str:
        name = f"mcp_gateway_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin_execute(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return _admin_url().rsplit("/", 1)[0] + f"/{name}"

    yield create
    for name in created:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_postgres_url(postgres_database_factory: Callable[[], str]) -> str:
    """A new, empty PostgreSQL database for one test."""
    return postgres_database_factory()


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_database_factory: Callable[[], str]) -> str:
    """One PostgreSQL database for the session, migrated to head once."""
    url = postgres_database_factory()

    async def migrate() -> None:
        engine = create_engine(url)
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses this runs twice: on a fresh SQLite file and on a clean, migrated PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    url: str = request.getfixturevalue("migrated_postgres_url")

    async def truncate() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE servers, audit_logs, ended_sessions RESTART IDENTITY"))
        finally:
            await engine.dispose()

    asyncio.run(truncate())
    yield url


@pytest.fixture
def write_servers_file(tmp_path: Path) -> Callable[[dict[str, Any] | str], Path]:
    """Write a servers file (a document or raw YAML text) and return its path."""

    def write(document: dict[str, Any] | str) -> Path:
        path = tmp_path / "mcp_servers.yaml"
        text_ = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
        path.write_text(text_, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on the test's database with an empty servers file; keyword overrides by field name."""

    def make(**overrides: Any) -> Settings:
        servers_file = tmp_path / "empty_servers.yaml"
        if not servers_file.exists():
            servers_file.write_text("servers: {}\n", encoding="utf-8")
        base = Settings(
            database_url=database_url,
            database_auto_migrate=True,
            mcp_servers_file=str(servers_file),
            audit_log_file=str(tmp_path / "audit.json"),
        )
        return msgspec.structs.replace(base, **overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
