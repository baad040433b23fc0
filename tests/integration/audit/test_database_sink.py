"""The ``audit_logs`` sink on SQLite and PostgreSQL: batched rows, values that never break a batch, reading back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.audit import AuditEvent, AuditLog
from app.audit.database import DatabaseSink
from app.audit.queries import AuditQuery, search_audit
from app.db.engine import create_engine
from app.db.migrations import upgrade_database
from app.db.models import AuditRecord


def event(n: int, **fields: object) -> AuditEvent:
    values: dict[str, object] = {
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        "event_type": "mcp_request",
        "user": "alice" if n % 2 else "bob",
        "action": "invoke_tool",
        "mcp_server": "prod" if n % 3 else "staging",
        "tool_name": "search",
        "parameters": {"n": n, "nested": {"ok": True}},
        "status": "success" if n % 5 else "error",
        "duration_ms": 1.5,
        "response_status": 200,
        "request_id": f"req-{n}",
        "trace_id": f"{n:032x}",
        "client": "127.0.0.1:5000",
    }
    values.update(fields)
    return AuditEvent(**values)  # type: ignore[arg-type]


async def test_events_become_rows_that_read_back_with_filters(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade_database(engine)
    log = AuditLog([DatabaseSink(create_engine(database_url, background_writer=True))], batch_size=40)
    log.start()
    for n in range(100):
        log.emit(event(n))
    log.emit(event(100, request_id="r" * 128, mcp_server="s" * 80, error="e" * 10_000))  # longer than columns
    await log.aclose()
    assert log.stats()[0].written == 101
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(AuditRecord)) == 101
            rows, total = await search_audit(session, AuditQuery(user="alice", mcp_server="prod", limit=5))
            everything, _ = await search_audit(session, AuditQuery(limit=500))
            since = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=90)
            recent, recent_total = await search_audit(session, AuditQuery(since=since, limit=500))
            errors, errors_total = await search_audit(session, AuditQuery(status="error", limit=500))
    finally:
        await engine.dispose()
    odd_not_multiple_of_3 = [n for n in range(101) if n % 2 and n % 3]
    assert total == len(odd_not_multiple_of_3)
    assert [row.request_id for row in rows] == [f"req-{n}" for n in sorted(odd_not_multiple_of_3, reverse=True)[:5]]
    assert rows[0].parameters == {"n": odd_not_multiple_of_3[-1], "nested": {"ok": True}}
    assert rows[0].client_address == "127.0.0.1:5000"
    assert rows[0].timestamp.tzinfo is not None
    long_row = next(row for row in everything if row.request_id and row.request_id.startswith("r"))
    assert len(long_row.request_id or "") == 128
    assert len(long_row.mcp_server or "") == 64
    assert recent_total == 11
    assert len(recent) == 11
    assert errors_total == len([n for n in range(101) if n % 5 == 0]) == len(errors)


async def _rows_in(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(AuditRecord)) or 0)
    finally:
        await engine.dispose()


async def test_a_replaced_sqlite_file_gets_the_next_rows(tmp_path: Path) -> None:
    """The sink keeps its SQLite connection between batches but never writes into a file moved off its path."""
    home = tmp_path / "db"
    home.mkdir()
    url = f"sqlite:///{home / 'gateway.db'}"
    first = create_engine(url)
    await upgrade_database(first)
    await first.dispose()
    sink = DatabaseSink(create_engine(url, background_writer=True))
    try:
        await sink.write([event(n) for n in range(3)])
        home.rename(tmp_path / "old")  # the database (and its WAL) moved away; a new one takes its place
        home.mkdir()
        fresh = create_engine(url)
        await upgrade_database(fresh)
        await fresh.dispose()
        await sink.write([event(n) for n in range(3, 5)])
    finally:
        await sink.aclose()
    assert await _rows_in(url) == 2
    assert await _rows_in(f"sqlite:///{tmp_path / 'old' / 'gateway.db'}") == 3
