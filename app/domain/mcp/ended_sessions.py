"""EndedSessions: handshake-era sessions ended with DELETE, refused by every replica until they expire.

The ending replica refuses the session at once; the others within ``refresh_seconds`` (they re-read the
``ended_sessions`` table on that period, as they do the registry). Rows are purged once the session id
would have expired on its own. A replica also remembers, until they expire, the sessions it ended itself: a
reload whose read began before the ending's insert committed must not bring such a session back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import EndedSessionRecord

__all__ = ("EndedSessions",)

logger = logging.getLogger("mcp_gateway.sessions")


class EndedSessions:
    """The nonces of ended sessions, kept in memory and shared through the database."""

    __slots__ = ("_ended", "_factory", "_mine", "_refresh", "_task")

    def __init__(self, factory: async_sessionmaker[AsyncSession], refresh_seconds: float = 5.0) -> None:
        self._factory = factory
        self._refresh = refresh_seconds
        self._ended: set[str] = set()
        self._mine: dict[str, datetime] = {}
        """The sessions this replica ended, by nonce, with when each would have expired."""
        self._task: asyncio.Task[None] | None = None

    def is_ended(self, nonce: str) -> bool:
        return nonce in self._ended

    async def end(self, nonce: str, expires_at: datetime) -> None:
        """End the session with ``nonce`` (idempotent)."""
        self._ended.add(nonce)
        self._mine[nonce] = expires_at
        with contextlib.suppress(IntegrityError):  # ended before, here or on another replica
            async with self._factory() as session, session.begin():
                session.add(EndedSessionRecord(nonce=nonce, expires_at=expires_at))

    async def reload(self) -> None:
        """Read the ended sessions that have not expired yet; drop the rows of those that have."""
        now = datetime.now(UTC)
        async with self._factory() as session, session.begin():
            await session.execute(delete(EndedSessionRecord).where(EndedSessionRecord.expires_at <= now))
            rows = await session.scalars(select(EndedSessionRecord.nonce).where(EndedSessionRecord.expires_at > now))
            ended = set(rows)
        self._mine = {nonce: expires for nonce, expires in self._mine.items() if expires > now}
        self._ended = ended | self._mine.keys()

    def start(self) -> None:
        self._task = asyncio.create_task(self._reload_forever(), name="ended-sessions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _reload_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.reload()
            except SQLAlchemyError as exc:  # the database is down: keep what is known, try again later
                logger.warning("cannot read ended sessions: %s", exc)
