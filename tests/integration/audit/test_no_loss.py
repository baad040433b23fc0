"""No audit event is lost: 500 concurrent calls leave exactly their events in the file and in the database,
also when the database goes away mid-run (it catches up when it comes back, or the drop counter says how
many are missing)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from litestar import Litestar
from sqlalchemy import func, select

from app.asgi import create_app
from app.db.engine import create_engine
from app.db.models import AuditRecord
from app.settings import Settings
from tests.conftest import admin_execute
from tests.integration.conftest import entry
from tests.mcp_backends import Backend
from tests.servers import serve_asgi

PREFIX = "run-"


def expected_events(calls: int) -> int:
    """Every 5th call is a broadcast to 2 servers (1 event + 2 legs), the others single invocations."""
    broadcasts = len([n for n in range(calls) if n % 5 == 0])
    return (calls - broadcasts) + broadcasts * 3


async def fire(url: str, numbers: range) -> None:
    limits = httpx.Limits(max_connections=len(numbers), max_keepalive_connections=len(numbers))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def one(n: int) -> None:
            headers = {"X-Request-ID": f"{PREFIX}{n}"}
            if n % 5 == 0:
                body: dict[str, Any] = {"tool_name": "echo", "parameters": {"text": str(n)}, "mcp_servers": ["a", "b"]}
                response = await http.post("/mcp/invoke-broadcast", json=body, headers=headers)
            else:
                body = {"tool_name": "echo", "parameters": {"text": str(n), "token": "secret"}}
                response = await http.post("/mcp/invoke", params={"mcp_server": "a"}, json=body, headers=headers)
            assert response.status_code == 200, response.text

        await asyncio.gather(*(one(n) for n in numbers))


@contextmanager
def running(settings: Settings) -> Iterator[tuple[str, Litestar]]:
    """The gateway under uvicorn (real HTTP, real lifespan: shutdown flushes the audit writers)."""
    app = create_app(settings)
    with serve_asgi(app) as url:
        yield url, app


def file_events(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if (line.get("request_id") or "").startswith(PREFIX)]


async def database_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.request_id.like(f"{PREFIX}%"))
            )
    finally:
        await engine.dispose()
    return int(count or 0)


def gateway_settings(tmp_path: Path, database_url: str, servers: dict[str, Any], **overrides: Any) -> Settings:
    servers_file = tmp_path / "servers.yaml"
    servers_file.write_text(yaml.safe_dump({"servers": servers}))
    return Settings(
        database_url=database_url,
        database_auto_migrate=True,
        mcp_servers_file=str(servers_file),
        audit_log_file=str(tmp_path / "audit.json"),
        registry_refresh_seconds=3600,  # only the audit writer talks to the database during the run
        **overrides,
    )


async def test_500_concurrent_calls_leave_exactly_their_events(
    database_url: str, backends: Callable[..., Backend], tmp_path: Path
) -> None:
    servers = {"a": entry(backends("a", kind="stateless")), "b": entry(backends("b", kind="stateless"))}
    settings = gateway_settings(tmp_path, database_url, servers)
    with running(settings) as (url, app):
        await fire(url, range(500))
    events = file_events(tmp_path / "audit.json")
    assert len(events) == expected_events(500) == 700
    assert len({e["request_id"] for e in events}) == 500
    assert all(e["parameters"].get("token") in (None, "[REDACTED]") for e in events)
    assert await database_rows(database_url) == 700
    assert all(stats.dropped == {} for stats in app.state.audit.stats())


# --- the database goes away mid-run ----------------------------------------------------------------


class SqliteOutage:
    """The directory holding the database file disappears (renamed away), then comes back."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "db"
        self.home.mkdir()
        self.url = f"sqlite:///{self.home / 'gateway.db'}"

    async def begin(self) -> None:
        os.rename(self.home, self.home.with_name("db-gone"))

    async def end(self) -> None:
        os.rename(self.home.with_name("db-gone"), self.home)


class PostgresOutage:
    """Its own database: existing sessions killed and new connections refused, then allowed again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = url.rsplit("/", 1)[1]

    async def begin(self) -> None:
        await admin_execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await admin_execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'")

    async def end(self) -> None:
        await admin_execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteOutage | PostgresOutage]:
    if request.param == "sqlite":
        yield SqliteOutage(tmp_path)
        return
    kind = PostgresOutage(request.getfixturevalue("fresh_postgres_url"))
    try:
        yield kind
    finally:
        asyncio.run(kind.end())  # whatever happened, the database can be dropped at the end of the session


@asynccontextmanager
async def database_down(outage: SqliteOutage | PostgresOutage) -> AsyncIterator[None]:
    await outage.begin()
    try:
        yield
    finally:
        await outage.end()


async def test_a_database_outage_is_caught_up_after_it_ends(
    outage: SqliteOutage | PostgresOutage, backends: Callable[..., Backend], tmp_path: Path
) -> None:
    servers = {"a": entry(backends("a", kind="stateless")), "b": entry(backends("b", kind="stateless"))}
    settings = gateway_settings(tmp_path, outage.url, servers, audit_retry_attempts=8)
    with running(settings) as (url, app):
        await fire(url, range(250))
        async with database_down(outage):
            await fire(url, range(250, 500))
            await asyncio.sleep(1.0)  # the writer meets the outage and backs off
            assert app.state.audit.stats()[-1].queued > 0
    assert len(file_events(tmp_path / "audit.json")) == 700
    assert await database_rows(outage.url) == 700
    database = next(s for s in app.state.audit.stats() if s.sink == "database")
    assert database.dropped == {}


async def test_events_the_database_missed_are_counted_exactly(
    outage: SqliteOutage | PostgresOutage,
    backends: Callable[..., Backend],
    tmp_path: Path,
) -> None:
    servers = {"a": entry(backends("a", kind="stateless")), "b": entry(backends("b", kind="stateless"))}
    settings = gateway_settings(tmp_path, outage.url, servers, audit_retry_attempts=1, audit_batch_size=50)
    with running(settings) as (url, app):
        await fire(url, range(250))
        async with database_down(outage):
            await fire(url, range(250, 500))
            await asyncio.sleep(2.0)  # one retry (0.2 s) per batch: the outage outlasts them
    file_stats, database = app.state.audit.stats()
    assert len(file_events(tmp_path / "audit.json")) == 700
    assert file_stats.dropped == {}
    missing = sum(database.dropped.values())
    assert missing > 0
    assert await database_rows(outage.url) + missing == 700
