"""AuditLog: batched writers per sink; a failing sink neither blocks emitters nor costs other sinks events;
what is given up is counted by reason."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.audit import AuditEvent, AuditLog
from app.audit.sinks import JsonLinesFileSink, StdoutSink


def event(n: int) -> AuditEvent:
    return AuditEvent(
        timestamp=datetime.now(UTC),
        event_type="mcp_request",
        user="alice",
        action="invoke_tool",
        status="success",
        tool_name=f"tool-{n}",
    )


class CollectingSink:
    """An in-memory sink recording the batches it was given (a test double of the sink seam)."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.batches: list[list[AuditEvent]] = []

    async def write(self, batch: Sequence[AuditEvent]) -> None:
        self.batches.append(list(batch))

    async def aclose(self) -> None:
        return None


async def test_events_reach_the_file_as_json_lines_in_order(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.json"
    log = AuditLog([JsonLinesFileSink(path)], batch_size=50)
    log.start()
    for n in range(120):
        log.emit(event(n))
    await log.aclose()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["tool_name"] for line in lines] == [f"tool-{n}" for n in range(120)]
    assert lines[0]["logger"] == "audit"
    assert lines[0]["timestamp"].endswith("Z")
    assert log.stats()[0].written == 120


async def test_writes_are_batched(tmp_path: Path) -> None:
    sink = CollectingSink()
    log = AuditLog([sink], batch_size=100)
    for n in range(250):  # queued before the writer starts: it finds full batches
        log.emit(event(n))
    log.start()
    await log.aclose()
    assert [len(batch) for batch in sink.batches] == [100, 100, 50]


async def test_emit_never_waits_for_a_full_disk(tmp_path: Path) -> None:
    # /dev/full is a real device whose writes fail with ENOSPC: a disk that is full.
    full = AuditLog([JsonLinesFileSink("/dev/full")], retry_attempts=1, retry_base_seconds=0.01)
    full.start()
    started = time.perf_counter()
    for n in range(1000):
        full.emit(event(n))
    assert time.perf_counter() - started < 0.5
    await full.aclose()
    stats = full.stats()[0]
    assert stats.written == 0
    assert stats.dropped == {"write_failed": 1000}


async def test_a_failing_sink_does_not_cost_the_others_events(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = tmp_path / "audit.json"
    log = AuditLog([JsonLinesFileSink("/dev/full"), JsonLinesFileSink(good)], retry_attempts=2, retry_base_seconds=0.01)
    log.start()
    with caplog.at_level(logging.WARNING, logger="mcp_gateway.audit"):
        for n in range(300):
            log.emit(event(n))
            if n % 50 == 0:
                await asyncio.sleep(0)
        await log.aclose()
    assert len(good.read_text().splitlines()) == 300
    failing, healthy = log.stats()
    assert failing.dropped == {"write_failed": 300}
    assert healthy.dropped == {}
    assert healthy.written == 300
    assert any("dropped" in record.message and "write_failed" in record.message for record in caplog.records)


async def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    sink = CollectingSink()
    log = AuditLog([sink], queue_size=10)
    for n in range(25):  # the writer is not started: nothing leaves the queue
        log.emit(event(n))
    assert log.stats()[0].queued == 10
    assert log.stats()[0].dropped == {"queue_full": 15}
    log.start()
    await log.aclose()
    assert sum(len(batch) for batch in sink.batches) == 10


async def test_a_sink_that_recovers_gets_the_batch_it_missed(tmp_path: Path) -> None:
    # The parent "directory" is a file at first, so opening the log fails for real; then it becomes a directory.
    parent = tmp_path / "logs"
    parent.write_text("not a directory")
    log = AuditLog([JsonLinesFileSink(parent / "audit.json")], retry_attempts=10, retry_base_seconds=0.05)
    log.start()
    for n in range(20):
        log.emit(event(n))
    await asyncio.sleep(0.1)
    parent.unlink()
    await log.aclose()
    assert len((parent / "audit.json").read_text().splitlines()) == 20
    assert log.stats()[0].dropped == {}


async def test_shutdown_counts_what_it_could_not_write(tmp_path: Path) -> None:
    parent = tmp_path / "never"
    parent.write_text("stays a file")
    log = AuditLog([JsonLinesFileSink(parent / "audit.json")], retry_attempts=100, retry_base_seconds=0.05)
    log.start()
    for n in range(30):
        log.emit(event(n))
    await log.aclose(grace_seconds=0.3)
    stats = log.stats()[0]
    assert stats.written == 0
    assert sum(stats.dropped.values()) == 30
    log.emit(event(99))  # after close: counted, not queued
    assert log.stats()[0].dropped.get("closed") == 1


async def test_stdout_sink_writes_json_lines(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    log = AuditLog([StdoutSink()])
    log.start()
    log.emit(event(1))
    await log.aclose()
    out = capfdbinary.readouterr().out.decode()
    assert json.loads(out.splitlines()[-1])["tool_name"] == "tool-1"


async def test_no_sink_means_disabled() -> None:
    log = AuditLog([])
    assert not log.enabled
    log.emit(event(1))
    await log.aclose()
