"""Engine and advanced-alchemy configuration from ``DATABASE_URL``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from advanced_alchemy.extensions.litestar import AlembicAsyncConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.migrations import ALEMBIC_INI, VERSION_TABLE, migrations_dir
from app.errors import ConfigError
from app.settings import mask_url_password

__all__ = ("async_database_url", "create_engine", "create_sqlalchemy_config", "is_sqlite", "sqlite_file")

_MYSQL_DRIVERS = ("asyncmy", "aiomysql")


def async_database_url(url: str) -> str:
    """Map a URL as users write it to one with an async driver.

    ``sqlite:///f.db`` → ``sqlite+aiosqlite``; ``postgres(ql)://`` → ``postgresql+asyncpg`` (with libpq's
    ``sslmode`` renamed to asyncpg's ``ssl``); ``mysql://`` → ``mysql+asyncmy``/``aiomysql`` if installed.
    URLs that already name a driver are kept.

    Raises:
        ConfigError: the scheme is not supported or its async driver is not installed.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if "+" in scheme:
        return url
    rest = url[len(scheme) :]  # "://…" untouched: urlunsplit would mangle sqlite:////abs/path
    if scheme == "sqlite":
        return f"sqlite+aiosqlite{rest}"
    if scheme in {"postgres", "postgresql"}:
        query = urlencode([("ssl" if k == "sslmode" else k, v) for k, v in parse_qsl(parts.query)])
        return urlunsplit(parts._replace(scheme="postgresql+asyncpg", query=query))
    if scheme in {"mysql", "mariadb"}:
        for driver in _MYSQL_DRIVERS:
            if importlib.util.find_spec(driver) is not None:
                return f"{scheme}+{driver}{rest}"
        msg = f"DATABASE_URL {mask_url_password(url)}: MySQL needs an async driver; pip install asyncmy"
        raise ConfigError(msg)
    msg = f"DATABASE_URL {mask_url_password(url)}: unsupported database (use sqlite://, postgresql:// or mysql://)"
    raise ConfigError(msg)


def is_sqlite(url: str) -> bool:
    """True for any SQLite URL, with or without a driver."""
    return urlsplit(url).scheme.lower().split("+")[0] == "sqlite"


def create_engine(database_url: str, *, background_writer: bool = False) -> AsyncEngine:
    """An async engine for ``database_url`` with per-dialect connection settings.

    ``background_writer``: an engine for one writer task (the audit trail): SQLite keeps one connection
    (opening one per batch cost as much CPU as writing a hundred rows; the writer re-opens it when the file
    changes, see ``sqlite_file``); server databases get a pool of two.
    """
    url = async_database_url(database_url)
    if is_sqlite(url):
        pooling: dict[str, Any] = {"pool_size": 1, "max_overflow": 0} if background_writer else {}
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pooling)
        event.listen(engine.sync_engine, "connect", _tune_sqlite_connection)
        return engine
    if background_writer:
        return create_async_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=0, pool_recycle=1800)
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800)


def sqlite_file(engine: AsyncEngine) -> Path | None:
    """The database file of a SQLite engine (``None`` for other databases and in-memory SQLite)."""
    if engine.url.get_backend_name() != "sqlite" or engine.url.database in {None, "", ":memory:"}:
        return None
    return Path(engine.url.database or "")


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the audit writer and request handlers work at once; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_sqlalchemy_config(database_url: str) -> SQLAlchemyAsyncConfig:
    """The advanced-alchemy config: one engine, request-scoped sessions committed on 2xx."""
    alembic = AlembicAsyncConfig(
        script_config=str(ALEMBIC_INI) if ALEMBIC_INI.is_file() else "",
        script_location=str(migrations_dir()),
        version_table_name=VERSION_TABLE,
        render_as_batch=True,
        compare_type=True,
    )
    return SQLAlchemyAsyncConfig(
        engine_instance=create_engine(database_url),
        before_send_handler="autocommit",
        session_dependency_key="db_session",
        alembic_config=alembic,
        create_all=False,
    )
