"""ServerDirectory: the in-memory view of the registry that every request reads.

Reading the ``servers`` table on each tool call would put a database round trip on the hot path.
The directory keeps a snapshot instead, reloaded every ``refresh_seconds`` (so a change made on
another replica shows up within that delay) and updated at once for changes made through this
process. Listeners hear about every server that appeared, changed or disappeared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.registry.service import RegisteredServer, RegistryService
from app.errors import ServerDisabled, ServerNotFound

__all__ = ("DirectoryListener", "ServerDirectory")

logger = logging.getLogger("mcp_gateway.registry")

DirectoryListener = Callable[[str, RegisteredServer | None], None]
"""Called with (name, new state) when a server is added or changed, or (name, None) when removed."""


class ServerDirectory:
    """Snapshot of registered servers by name; ``get``/``enabled`` never touch the database."""

    __slots__ = ("_enabled", "_listeners", "_refresh_seconds", "_servers", "_sessions", "_task")

    def __init__(self, sessions: async_sessionmaker[AsyncSession], refresh_seconds: float = 5.0) -> None:
        self._sessions = sessions
        self._refresh_seconds = refresh_seconds
        self._servers: dict[str, RegisteredServer] = {}
        self._enabled: tuple[RegisteredServer, ...] | None = None
        """``enabled()``, kept until the next change (every call reads it)."""
        self._listeners: list[DirectoryListener] = []
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, listener: DirectoryListener) -> None:
        self._listeners.append(listener)

    def all(self) -> list[RegisteredServer]:
        """Every server, by name."""
        return [self._servers[name] for name in sorted(self._servers)]

    def enabled(self) -> tuple[RegisteredServer, ...]:
        """The servers that receive traffic, by name."""
        if self._enabled is None:
            self._enabled = tuple(s for s in self.all() if s.config.enabled)
        return self._enabled

    def find(self, name: str) -> RegisteredServer | None:
        return self._servers.get(name)

    def get(self, name: str) -> RegisteredServer:
        """The server called ``name``.

        Raises:
            ServerNotFound: no such server.
        """
        server = self._servers.get(name)
        if server is None:
            raise ServerNotFound(name)
        return server

    def get_enabled(self, name: str) -> RegisteredServer:
        """The server called ``name`` if it receives traffic.

        Raises:
            ServerNotFound: no such server.
            ServerDisabled: it is registered but disabled.
        """
        server = self.get(name)
        if not server.config.enabled:
            raise ServerDisabled(name)
        return server

    async def reload(self) -> None:
        """Read the whole registry again and tell listeners what changed."""
        async with self._sessions() as session:
            fresh = {s.name: s for s in await RegistryService(session=session).list_servers()}
        for name in self._servers.keys() - fresh.keys():
            self.remove(name)
        for server in fresh.values():
            self.put(server)

    def put(self, server: RegisteredServer) -> None:
        """Record a server added or changed by this process (or found by a reload)."""
        old = self._servers.get(server.name)
        if old is not None and old.config == server.config:
            return
        self._servers[server.name] = server
        self._enabled = None
        self._notify(server.name, server)

    def remove(self, name: str) -> None:
        if self._servers.pop(name, None) is not None:
            self._enabled = None
            self._notify(name, None)

    def start(self) -> None:
        """Begin periodic reloads (call :meth:`reload` once first)."""
        if self._task is None and self._refresh_seconds > 0:
            self._task = asyncio.create_task(self._reload_forever(), name="server-directory")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _reload_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.reload()
            except Exception as exc:
                logger.warning("registry reload failed, serving the previous snapshot: %s", exc)

    def _notify(self, name: str, server: RegisteredServer | None) -> None:
        for listener in self._listeners:
            listener(name, server)
