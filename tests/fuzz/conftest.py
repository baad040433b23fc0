"""A running gateway (real HTTP, SQLite) over one real SDK backend, shared by the fuzz tests of a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from app.asgi import create_app
from app.settings import Settings
from tests.mcp_backends import start_backend
from tests.servers import serve_asgi


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("fuzz")
    with start_backend("alpha", kind="dual") as backend:
        servers = home / "mcp_servers.yaml"
        servers.write_text(yaml.safe_dump({"servers": {"alpha": {"url": backend.url, "tags": ["logs"]}}}))
        settings = Settings(
            database_url=f"sqlite:///{home / 'gw.db'}",
            mcp_servers_file=str(servers),
            audit_log_file=str(home / "audit.json"),
            mcp_session_secret="fuzz",
        )
        with serve_asgi(create_app(settings)) as url:
            yield url


def assert_alive(url: str) -> None:
    import httpx

    assert httpx.get(f"{url}/health/live", timeout=5).status_code == 200


__all__ = ("Path", "assert_alive")
