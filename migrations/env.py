"""Alembic environment for the gateway's schema (``servers``, ``audit_logs``).

Three ways in, one migration path:
- from code (``app.db.migrations.upgrade_database``): a live connection arrives in ``config.attributes``;
- ``mcp-gateway db …`` (advanced-alchemy's commands): the config carries the app's engine;
- plain ``alembic …``: the URL comes from ``DATABASE_URL`` / ``.env`` like the gateway's own.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.engine import async_database_url
from app.db.migrations import VERSION_TABLE
from app.db.models import ServerRecord
from app.settings import load_settings

config = context.config
target_metadata = ServerRecord.metadata
# Any constant works; it only has to be the same for every replica running migrations at once.
_MIGRATION_LOCK_ID = 0x6D6370


def _compare_type(
    context: object, inspected_column: object, metadata_column: object, inspected_type: object, metadata_type: object
) -> bool | None:
    # SQLite reflects advanced-alchemy's GUID as NUMERIC: not a real difference.
    if isinstance(metadata_type, GUID) and isinstance(inspected_type, sa.NUMERIC):
        return False
    return None  # Alembic's default comparison


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        compare_type=_compare_type,
        user_module_prefix=None,  # render advanced_alchemy.types.* by their real module
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=async_database_url(load_settings().database_url), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas (or a Helm hook and a replica) may upgrade at once: serialise them.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine: AsyncEngine | None = getattr(config, "engine", None)
    owned = engine is None
    if engine is None:
        engine = create_async_engine(async_database_url(load_settings().database_url), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    if owned:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    do_run_migrations(connection)
else:
    asyncio.run(run_migrations_online())
