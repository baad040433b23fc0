"""Request ids the gateway makes: UUIDv7s written as 32 hex digits, ordered by the time they were made."""

from __future__ import annotations

import time
import uuid

from app.server.request_context import new_request_id


def test_a_request_id_is_a_uuid7_of_now() -> None:
    before = time.time()
    made = uuid.UUID(new_request_id())
    after = time.time()
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert int(before * 1000) <= made.int >> 80 <= int(after * 1000) + 1


def test_later_ids_sort_later_and_ids_do_not_repeat() -> None:
    first = [new_request_id() for _ in range(1000)]
    time.sleep(0.002)
    second = new_request_id()
    assert all(len(made) == 32 and int(made, 16) >= 0 for made in first)
    assert max(first) < second
    assert len(set(first)) == 1000
