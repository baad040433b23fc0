"""Where audit events go: a JSON-lines file and standard output (the database sink is in ``database``).

A sink writes one batch at a time and raises when it could not; retrying, counting and dropping are
the pipeline's job. Blocking I/O runs in a worker thread so a slow disk never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

import msgspec

from app.audit.event import AuditEvent

__all__ = ("AuditSink", "JsonLinesFileSink", "PartlyWritten", "RowsRejected", "StdoutSink", "encode_lines")

_encoder = msgspec.json.Encoder()


class RowsRejected(Exception):
    """Some events of a batch were refused for their content (retrying cannot help); the rest were written."""

    def __init__(self, count: int, reason: str) -> None:
        super().__init__(f"{count} audit events rejected: {reason}")
        self.count = count


class PartlyWritten(Exception):
    """The sink failed part-way through a batch; ``remaining`` were not written (retry only those)."""

    def __init__(self, remaining: Sequence[AuditEvent], cause: Exception) -> None:
        super().__init__(f"{len(remaining)} audit events not written: {type(cause).__name__}")
        self.remaining = remaining


class AuditSink(Protocol):
    """One destination of audit events."""

    name: str
    """Short label used in metrics and logs (``file``, ``stdout``, ``database``)."""

    async def write(self, batch: Sequence[AuditEvent]) -> None:
        """Write every event of ``batch`` or raise."""

    async def aclose(self) -> None:
        """Release what the sink holds (files, connections)."""


def encode_lines(batch: Sequence[AuditEvent]) -> bytes:
    """The batch as JSON lines (one object per line, each ending in a newline)."""
    buffer = bytearray()
    for event in batch:
        _encoder.encode_into(event, buffer, len(buffer))
        buffer.extend(b"\n")
    return bytes(buffer)


class JsonLinesFileSink:
    """Appends JSON lines to ``path``; reopens the file if it was rotated or removed."""

    __slots__ = ("_file", "_inode", "name", "path")

    def __init__(self, path: str | Path) -> None:
        self.name = "file"
        self.path = Path(path)
        self._file: IO[bytes] | None = None
        self._inode: int | None = None

    async def write(self, batch: Sequence[AuditEvent]) -> None:
        data = encode_lines(batch)
        await asyncio.to_thread(self._append, data)

    def _append(self, data: bytes) -> None:
        handle = self._open()
        try:
            handle.write(data)
            handle.flush()
        except OSError:
            self._close()  # a full disk or a lost mount: start from a fresh handle on the retry
            raise

    def _open(self) -> IO[bytes]:
        try:
            current = os.stat(self.path).st_ino
        except FileNotFoundError:
            current = None
        if self._file is not None and current == self._inode:
            return self._file
        self._close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "ab")  # noqa: SIM115 - kept open across batches
        self._file, self._inode = handle, os.fstat(handle.fileno()).st_ino
        return handle

    def _close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file, self._inode = None, None

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close)


class StdoutSink:
    """Writes JSON lines to standard output (for container log collectors)."""

    __slots__ = ("name", "stream")

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.name = "stdout"
        self.stream = stream

    async def write(self, batch: Sequence[AuditEvent]) -> None:
        data = encode_lines(batch)
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        stream = self.stream if self.stream is not None else sys.stdout.buffer
        stream.write(data)
        stream.flush()

    async def aclose(self) -> None:
        return None
