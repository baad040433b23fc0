"""Run the Alembic migrations from code (start-up on SQLite, tests) on an existing engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = (
    "ALEMBIC_INI",
    "VERSION_TABLE",
    "alembic_config",
    "migrations_dir",
    "schema_revisions",
    "upgrade_database",
)

VERSION_TABLE = "alembic_version"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = _PROJECT_ROOT / "alembic.ini"


def migrations_dir() -> Path:
    """The Alembic script directory: the source tree's ``migrations/``, or the copy packaged in the wheel."""
    source_tree = _PROJECT_ROOT / "migrations"
    if source_tree.is_dir():
        return source_tree
    return Path(__file__).resolve().parents[1] / "_migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our scripts; with ``connection`` the migrations run on it."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; safe to call on every start)."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def schema_revisions(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    """``(current, expected)``: the revisions the database is at, and the script heads it should be at."""

    def _current(connection: Connection) -> set[str]:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return set(context.get_current_heads())

    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    expected = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return current, expected
