"""Bring the database to a usable state: migrate (when enabled) and sync the servers file."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.db.engine import is_sqlite
from app.db.migrations import schema_revisions, upgrade_database
from app.domain.registry import RegistryService, ServerConfig, SyncReport
from app.errors import ConfigError
from app.settings import Settings

__all__ = ("prepare_database", "should_auto_migrate")

logger = logging.getLogger("mcp_gateway")


def should_auto_migrate(settings: Settings) -> bool:
    """``DATABASE_AUTO_MIGRATE`` if set; otherwise migrate only the embedded SQLite database."""
    if settings.database_auto_migrate is not None:
        return settings.database_auto_migrate
    return is_sqlite(settings.database_url)


async def prepare_database(engine: AsyncEngine, settings: Settings, file_servers: Mapping[str, ServerConfig]) -> None:
    """Migrate if enabled, then sync the servers file into the ``servers`` table.

    Replicas starting together race on the sync; the loser of an insert retries once and then
    finds the rows it wanted already there.
    """
    if should_auto_migrate(settings):
        await upgrade_database(engine)
    else:
        current, expected = await schema_revisions(engine)
        if current != expected:
            at = ", ".join(sorted(current)) or "an empty schema"
            msg = (
                f"the database is at {at} but this gateway needs revision {', '.join(sorted(expected))}: "
                "run `mcp-gateway db upgrade` (or set DATABASE_AUTO_MIGRATE=true)"
            )
            raise ConfigError(msg)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for attempt in (1, 2):
        async with sessions() as session:
            try:
                report = await RegistryService(session=session).sync_file_servers(file_servers)
                await session.commit()
            except IntegrityError:
                await session.rollback()
                if attempt == 2:
                    raise
                continue
        _log_sync(report)
        return


def _log_sync(report: SyncReport) -> None:
    for verb, names in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        if names:
            logger.info("servers file: %s %s", verb, ", ".join(names))
