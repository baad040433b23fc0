"""BackendGuard: a circuit breaker and a concurrency bound in front of one backend.

Breaker: after ``failure_threshold`` consecutive failures (unreachable, timed out, not speaking MCP)
the circuit opens and calls fail fast with :class:`BackendCircuitOpen` for ``open_seconds``; then one
probe call is let through (half-open) — success closes the circuit, failure opens it again. A backend
that answers, even with a JSON-RPC error or a tool error, is healthy.

Bound: at most ``max_in_flight`` calls run at once; up to ``max_waiting`` more wait for a slot; any
further call fails at once with :class:`BackendSaturated` (503), so one slow backend cannot pile up
unbounded work inside the gateway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

from app.errors import (
    BackendCircuitOpen,
    BackendProtocolError,
    BackendSaturated,
    BackendTimeout,
    BackendUnreachable,
)

__all__ = ("BackendGuard", "BreakerState", "counts_as_failure")

BreakerState = Literal["closed", "open", "half_open"]

_FAILURES = (BackendUnreachable, BackendTimeout, BackendProtocolError)


def counts_as_failure(error: BaseException) -> bool:
    """Whether ``error`` says the backend is unhealthy (not merely that a call was refused or cancelled)."""
    return isinstance(error, _FAILURES)


class BackendGuard:
    """Admission control for one backend's calls; cheap (no locks on the success path)."""

    __slots__ = (
        "_clock",
        "_failures",
        "_in_flight",
        "_opened_at",
        "_probing",
        "_slots",
        "_waiting",
        "failure_threshold",
        "max_in_flight",
        "max_waiting",
        "open_seconds",
        "server",
    )

    def __init__(
        self,
        server: str,
        *,
        failure_threshold: int = 5,
        open_seconds: float = 10.0,
        max_in_flight: int = 100,
        max_waiting: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.max_in_flight = max_in_flight
        self.max_waiting = max_waiting
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight = 0
        self._waiting = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.open_seconds:
            return "half_open"
        return "open"

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        """Admit one call (or raise); its outcome updates the breaker.

        Raises:
            BackendCircuitOpen: the circuit is open, or half-open with its probe already running.
            BackendSaturated: in-flight and waiting calls are both at their limit.
        """
        probe = self._admit()
        try:
            await self._acquire()
        except BaseException:
            if probe:
                self._probing = False
            raise
        self._in_flight += 1
        try:
            yield
        except BaseException as exc:
            if counts_as_failure(exc):
                self._record_failure()
            elif probe:
                self._probing = False  # cancelled or refused probe: let the next call probe instead
            raise
        else:
            self._record_success()
        finally:
            self._in_flight -= 1
            self._slots.release()

    def _admit(self) -> bool:
        """True when this call is the half-open probe."""
        if self._opened_at is None:
            return False
        remaining = self.open_seconds - (self._clock() - self._opened_at)
        if remaining > 0 or self._probing:
            raise BackendCircuitOpen(self.server, max(remaining, 0.0))
        self._probing = True
        return True

    async def _acquire(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        if self._waiting >= self.max_waiting:
            raise BackendSaturated(self.server, self.max_in_flight)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1

    def _record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def _record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._probing = False
