from __future__ import annotations

import importlib.util

import pytest

from app.db.engine import async_database_url, is_sqlite
from app.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///mcp_gateway.db", "sqlite+aiosqlite:///mcp_gateway.db"),
        ("sqlite:////var/lib/gw/gw.db", "sqlite+aiosqlite:////var/lib/gw/gw.db"),
        (
            "postgresql://user:pass@localhost:5432/mcp_gateway",
            "postgresql+asyncpg://user:pass@localhost:5432/mcp_gateway",
        ),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h/db?sslmode=require", "postgresql+asyncpg://u@h/db?ssl=require"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_urls_as_users_write_them_map_to_async_drivers(url: str, expected: str) -> None:
    assert async_database_url(url) == expected


def test_mysql_without_an_async_driver_says_what_to_install() -> None:
    if importlib.util.find_spec("asyncmy") or importlib.util.find_spec("aiomysql"):
        assert async_database_url("mysql://u:p@h/db").startswith("mysql+")
        return
    with pytest.raises(ConfigError, match="asyncmy") as info:
        async_database_url("mysql://u:secretpw@h/db")
    assert "secretpw" not in str(info.value)


def test_unsupported_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported database"):
        async_database_url("oracle://u@h/db")


def test_is_sqlite() -> None:
    assert is_sqlite("sqlite:///x.db")
    assert is_sqlite("sqlite+aiosqlite:///x.db")
    assert not is_sqlite("postgresql://h/db")
