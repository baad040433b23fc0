from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import EndedSessionRecord
from app.domain.mcp.ended_sessions import EndedSessions


async def test_other_replicas_learn_of_an_ending_on_reload(sessions: async_sessionmaker[AsyncSession]) -> None:
    one, two = EndedSessions(sessions), EndedSessions(sessions)
    await one.end("n1", datetime.now(UTC) + timedelta(hours=1))
    assert (one.is_ended("n1"), two.is_ended("n1")) == (True, False)
    await two.reload()
    assert two.is_ended("n1")


async def test_a_reload_never_brings_back_a_session_this_replica_ended(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A reload whose read began before the ending's insert committed sees no row for it; deleting the row
    # reproduces what such a read returns.
    ended = EndedSessions(sessions)
    await ended.end("n1", datetime.now(UTC) + timedelta(hours=1))
    async with sessions() as session, session.begin():
        await session.execute(delete(EndedSessionRecord))
    await ended.reload()
    assert ended.is_ended("n1")


async def test_expired_endings_are_forgotten_and_purged(sessions: async_sessionmaker[AsyncSession]) -> None:
    ended = EndedSessions(sessions)
    await ended.end("old", datetime.now(UTC) - timedelta(seconds=1))
    await ended.end("live", datetime.now(UTC) + timedelta(hours=1))
    await ended.reload()
    assert (ended.is_ended("old"), ended.is_ended("live")) == (False, True)
    async with sessions() as session:
        assert set(await session.scalars(select(EndedSessionRecord.nonce))) == {"live"}
