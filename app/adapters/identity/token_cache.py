"""TokenCache: what was learnt about a bearer token, reused until a deadline; bounded, keyed by SHA-256.

Agents send the same token on every call, so checking it once per ``cache_seconds`` instead of per
request takes signature checks and introspection round trips off the hot path. Keys are digests so
the cache holds no usable credential and costs the same for long tokens.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

__all__ = ("MISSING", "TokenCache")

MISSING: Any = object()
"""What :meth:`TokenCache.get` returns for a token it holds nothing (current) about."""


class TokenCache:
    __slots__ = ("_entries", "max_entries")

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Any]] = OrderedDict()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> Any:
        """The value stored for ``key`` if its deadline (wall-clock time) has not passed, else ``MISSING``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.time():
            return MISSING
        return entry[1]

    def put(self, key: bytes, value: Any, until: float) -> None:
        """Keep ``value`` until wall-clock time ``until``; the oldest entries go when the cache is full."""
        self._entries[key] = (until, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
