"""AuditLog: takes events on the request path without waiting, writes them in batches off it.

Each sink has its own bounded queue and writer task, so a slow or failing sink (database down, disk
full) never delays requests and never costs the other sinks an event. A failed batch is retried with
exponential backoff a bounded number of times; what is finally given up (queue full, retries used
up, rows refused, shutdown deadline) is counted per sink and reason and logged, never silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Sequence

import msgspec

from app.audit.event import AuditEvent
from app.audit.sinks import AuditSink, PartlyWritten, RowsRejected

__all__ = ("AuditLog", "SinkStats")

logger = logging.getLogger("mcp_gateway.audit")
_LOG_EVERY = 10.0
"""Seconds between two warnings about the same sink dropping events."""


class SinkStats(msgspec.Struct, kw_only=True):
    """What one sink has done so far."""

    sink: str
    queued: int
    """Events waiting to be written now."""
    written: int
    dropped: dict[str, int]
    """Events given up, by reason: ``queue_full``, ``write_failed``, ``rejected``, ``shutdown``, ``closed``,
    ``invalid``."""


class _SinkWorker:
    __slots__ = ("_unlogged", "dropped", "inflight", "last_warning", "queue", "sink", "task", "written")

    def __init__(self, sink: AuditSink, queue_size: int) -> None:
        self.sink = sink
        self.queue: asyncio.Queue[AuditEvent] = asyncio.Queue(maxsize=queue_size)
        self.task: asyncio.Task[None] | None = None
        self.written = 0
        self.inflight = 0
        self.dropped: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self.last_warning = 0.0

    def drop(self, reason: str, count: int) -> None:
        if count <= 0:
            return
        self.dropped[reason] += count
        self._unlogged[reason] += count
        now = time.monotonic()
        if now - self.last_warning >= _LOG_EVERY:
            self.report(now)

    def report(self, now: float) -> None:
        if not self._unlogged:
            return
        detail = ", ".join(f"{count} ({reason})" for reason, count in sorted(self._unlogged.items()))
        logger.warning(
            "audit sink '%s' dropped %s; %d dropped in total", self.sink.name, detail, sum(self.dropped.values())
        )
        self._unlogged.clear()
        self.last_warning = now


class AuditLog:
    """The audit service: :meth:`emit` is cheap and never blocks; sinks are fed by background writers."""

    def __init__(
        self,
        sinks: Sequence[AuditSink],
        *,
        queue_size: int = 10_000,
        batch_size: int = 200,
        batch_wait_seconds: float = 0.0,
        retry_attempts: int = 5,
        retry_base_seconds: float = 0.2,
        retry_max_seconds: float = 5.0,
        max_parameter_bytes: int = 8192,
    ) -> None:
        self._workers = [_SinkWorker(sink, queue_size) for sink in sinks]
        self._batch_size = max(1, batch_size)
        self._batch_wait = max(0.0, batch_wait_seconds)
        """After the first event of a batch, how long a writer lets more gather unless a full batch is waiting."""
        self._attempts = max(0, retry_attempts)
        self._base = retry_base_seconds
        self._max = retry_max_seconds
        self._deadline: float | None = None
        self._closed = False
        self.max_parameter_bytes = max_parameter_bytes
        """Largest encoded ``parameters`` an event keeps (see ``redaction.bounded_parameters``)."""

    @property
    def enabled(self) -> bool:
        """False when no sink is configured: callers may skip building events."""
        return bool(self._workers)

    def emit(self, event: AuditEvent) -> None:
        """Queue ``event`` for every sink; a full queue drops it for that sink only (counted)."""
        for worker in self._workers:
            if self._closed:
                worker.drop("closed", 1)
                continue
            try:
                worker.queue.put_nowait(event)
            except asyncio.QueueFull:
                worker.drop("queue_full", 1)

    def count_unrecorded(self) -> None:
        """An event could not even be built (a bug, logged where it happened): count it as dropped everywhere."""
        for worker in self._workers:
            worker.drop("invalid", 1)

    def stats(self) -> list[SinkStats]:
        return [
            SinkStats(
                sink=w.sink.name,
                queued=w.queue.qsize() + w.inflight,
                written=w.written,
                dropped=dict(w.dropped),
            )
            for w in self._workers
        ]

    def start(self) -> None:
        """Start one writer task per sink (events emitted before are kept and written)."""
        for worker in self._workers:
            if worker.task is None:
                worker.task = asyncio.create_task(self._run(worker), name=f"audit-writer:{worker.sink.name}")

    async def flush(self, wait_seconds: float | None = None) -> bool:
        """Wait until every event queued so far is written or given up; False if ``wait_seconds`` passed first."""
        try:
            async with asyncio.timeout(wait_seconds):
                for worker in self._workers:
                    await worker.queue.join()
        except TimeoutError:
            return False
        return True

    async def aclose(self, grace_seconds: float = 10.0) -> None:
        """Write what is queued (up to ``grace_seconds``), then stop; the rest is counted as dropped."""
        self._deadline = time.monotonic() + grace_seconds
        self._closed = True
        await self.flush(grace_seconds)
        for worker in self._workers:
            if worker.task is not None:
                worker.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker.task
                worker.task = None
            worker.drop("shutdown", worker.queue.qsize())
            worker.report(time.monotonic())
            try:
                await worker.sink.aclose()
            except Exception:
                logger.exception("closing audit sink '%s' failed", worker.sink.name)

    async def _run(self, worker: _SinkWorker) -> None:
        queue = worker.queue
        while True:
            batch = [await queue.get()]
            if self._batch_wait and queue.qsize() < self._batch_size - 1 and not self._closed:
                # Each write has a fixed cost (a thread hop, a transaction): let a batch gather instead of
                # paying it per event. A full batch waiting, or shutting down, skips the wait.
                await asyncio.sleep(self._batch_wait)
            while len(batch) < self._batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            worker.inflight = len(batch)
            try:
                await self._write(worker, batch)
            except asyncio.CancelledError:
                worker.drop("shutdown", worker.inflight)
                raise
            finally:
                worker.inflight = 0
                for _ in batch:
                    queue.task_done()

    async def _write(self, worker: _SinkWorker, batch: Sequence[AuditEvent]) -> None:
        pending = batch
        for attempt in range(self._attempts + 1):
            try:
                await worker.sink.write(pending)
            except RowsRejected as exc:
                worker.written += len(pending) - exc.count
                worker.drop("rejected", exc.count)
                return
            except Exception as exc:
                remaining = exc.remaining if isinstance(exc, PartlyWritten) else pending
                worker.written += len(pending) - len(remaining)
                pending = remaining
                worker.inflight = len(pending)
                delay = min(self._max, self._base * 2**attempt)
                if attempt == self._attempts or self._past_deadline(delay):
                    logger.warning(
                        "audit sink '%s' gave up a batch of %d after %d attempts: %s",
                        worker.sink.name,
                        len(pending),
                        attempt + 1,
                        _describe(exc),
                    )
                    worker.drop("write_failed", len(pending))
                    return
                if attempt == 0:
                    logger.warning("audit sink '%s' failed, retrying: %s", worker.sink.name, _describe(exc))
                await asyncio.sleep(delay)
            else:
                worker.written += len(pending)
                return

    def _past_deadline(self, delay: float) -> bool:
        return self._deadline is not None and time.monotonic() + delay > self._deadline


def _describe(exc: BaseException) -> str:
    # Driver messages can be long (SQL, parameters); the class and first line are enough to act on.
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line[:200]}" if first_line else type(exc).__name__
