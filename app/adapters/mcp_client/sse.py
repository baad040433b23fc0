"""A small incremental parser for ``text/event-stream`` (the WHATWG server-sent events format)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

__all__ = ("ServerSentEvent", "iter_events")


class ServerSentEvent(msgspec.Struct, frozen=True):
    event: str
    """Event type (``message`` when the stream names none)."""
    data: str
    id: str | None = None


async def iter_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Yield events as they complete; comments (``:`` keep-alives) and ``retry:`` fields are skipped.

    An event not closed by a blank line before the stream ends is discarded, as the format requires.
    """
    buffer = b""
    event, event_id = "", None
    data: list[str] = []
    async for chunk in chunks:
        buffer += chunk
        while True:
            newline = buffer.find(b"\n")
            if newline < 0:
                break
            line = buffer[:newline].rstrip(b"\r").decode("utf-8", errors="replace")
            buffer = buffer[newline + 1 :]
            if not line:
                if data:
                    yield ServerSentEvent(event=event or "message", data="\n".join(data), id=event_id)
                event, data = "", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
            elif field == "id":
                event_id = value
