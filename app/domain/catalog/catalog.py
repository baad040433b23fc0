"""ToolCatalog: each server's ``tools/list``, cached with a TTL and refreshed in the background.

Listing never waits on a server whose tools are already cached: stale entries are served while a
refresh runs. Only a server seen for the first time is waited for, and only up to a short budget;
a slow or dead one is then reported as pending or failed while the others are listed.

Listings are per caller: without a server list, ``view()`` and ``content()`` cover the enabled servers
the caller may use (``AccessPolicy``); views are kept per access key until anything changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from app.adapters.mcp_client import Message
from app.domain.access import AccessPolicy
from app.domain.backends import BackendPool
from app.domain.catalog.aggregate import Catalog, aggregate
from app.domain.catalog.content import ContentCatalog, aggregate_content
from app.domain.catalog.entries import ServerStatus, ServerTools
from app.domain.registry.directory import ServerDirectory
from app.domain.registry.service import RegisteredServer
from app.errors import BackendRpcError, GatewayError

__all__ = ("ToolCatalog",)

logger = logging.getLogger("mcp_gateway.catalog")
_tracer = trace.get_tracer("mcp_gateway.catalog")

_MAX_VIEWS = 64
_EVERYONE = "everyone"  # the full view's key among the kept views (access keys are tuples: no clash)


class ToolCatalog:
    """Per-server tool lists plus the aggregated view built from them."""

    def __init__(
        self,
        directory: ServerDirectory,
        pool: BackendPool,
        access: AccessPolicy | None = None,
        *,
        ttl_seconds: float = 60.0,
        first_fetch_wait: float = 3.0,
        server_names: bool = False,
    ) -> None:
        self._directory = directory
        self._pool = pool
        self._access = access or AccessPolicy()
        self._ttl = ttl_seconds
        self._first_fetch_wait = first_fetch_wait
        self._server_names = server_names
        self._entries: dict[str, ServerTools] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._watchers: set[asyncio.Queue[None]] = set()
        self._version = 0
        """Bumped whenever any server's tools or configuration change (see ``_announce_change``)."""
        self._views: dict[tuple[str, ...], Catalog] = {}
        """Aggregated views by server set and, while the refresher runs, by access key (``_kept_views``, see
        ``_kept_view``); both valid for ``_views_version``."""
        self._kept_views: dict[Hashable, Catalog] = {}
        self._views_version = -1
        directory.subscribe(self._server_changed)
        pool.set_notification_handler(self.on_notification)

    # --- reading -------------------------------------------------------------------------------

    def entry(self, name: str) -> ServerTools | None:
        """The cache entry for ``name`` (no fetching)."""
        return self._entries.get(name)

    async def status(self, server: RegisteredServer) -> ServerStatus:
        """Live status of ``server`` (contacts it first if this replica never did)."""
        entry = self._entries.get(server.name)
        if server.config.enabled and (entry is None or entry.refreshed_at is None):
            entry = (await self.server_tools([server]))[server.name]
        client = self._pool.existing(server.name)
        session = client.session if client is not None else None
        return ServerStatus(
            status=entry.status if entry is not None else ("disabled" if not server.config.enabled else "pending"),
            reachable=None if entry is None or entry.refreshed_at is None else entry.error is None,
            era=session.era if session is not None else None,
            protocol_version=session.protocol_version if session is not None else None,
            server_info=session.server_info if session is not None else None,
            tool_count=len(entry.tools) if entry is not None and entry.tools is not None else None,
            last_error=entry.error if entry is not None else None,
            last_refresh=entry.refreshed_at if entry is not None else None,
            circuit=client.guard.state if client is not None else None,
            in_flight=client.guard.in_flight if client is not None else 0,
        )

    async def server_tools(self, servers: Iterable[RegisteredServer] | None = None) -> dict[str, ServerTools]:
        """Entries for ``servers`` (default: every enabled one), refreshing stale ones in the background."""
        chosen = list(self._directory.enabled() if servers is None else servers)
        waiting = []
        for server in chosen:
            entry = self._entries.setdefault(server.name, ServerTools(server.name))
            if self._is_stale(entry):
                task = self._refresh_in_background(server)
                if entry.tools is None and not entry.waited:
                    entry.waited = True
                    waiting.append(task)
        if waiting:
            await asyncio.wait(waiting, timeout=self._first_fetch_wait)
        return {server.name: self._entries[server.name] for server in chosen}

    def usable(self) -> list[RegisteredServer]:
        """The enabled servers the current caller may use."""
        return self._access.usable(self._directory.enabled())

    async def content(self) -> ContentCatalog:
        """Resources, templates and prompts of the caller's servers, merged (see ``catalog.content``)."""
        entries = await self.server_tools(self.usable())
        listings = {
            name: {"resources": e.resources, "templates": e.templates, "prompts": e.prompts}
            for name, e in entries.items()
        }
        return aggregate_content(listings)

    async def view(self, servers: Iterable[RegisteredServer] | None = None) -> Catalog:
        """The aggregated catalog (tools grouped by name plus synthesised broadcast tools) of ``servers``
        (default: the enabled servers the current caller may use)."""
        if servers is not None:
            return await self._view_of(list(servers))
        return await self._kept_view(self._access.decided_by(), self.usable)

    async def full_view(self) -> Catalog:
        """The aggregated catalog of every enabled server, whoever the caller is (to tell 403 from 404)."""
        return await self._kept_view(_EVERYONE, lambda: list(self._directory.enabled()))

    async def _kept_view(self, key: Hashable, choose: Callable[[], list[RegisteredServer]]) -> Catalog:
        """The view of ``choose()``'s servers, kept under ``key`` until anything changes while the background
        refresher runs: then a tool call on a catalog of hundreds of servers costs a look-up, not a walk over
        every server (stale entries are the refresher's business). Without it, each view checks every entry."""
        if self._task is None:
            return await self._view_of(choose())
        self._drop_outdated_views()
        view = self._kept_views.get(key)
        if view is None:
            version = self._version
            view = await self._view_of(choose())
            if version == self._version:
                _keep(self._kept_views, key, view)
        return view

    async def _view_of(self, chosen: list[RegisteredServer]) -> Catalog:
        entries = await self.server_tools(chosen)
        self._drop_outdated_views()  # aggregating 100 servers x 50 tools costs ~10 ms: once per change
        key = tuple(server.name for server in chosen)
        view = self._views.get(key)
        if view is None:
            listed = {name: entry.tools or [] for name, entry in entries.items()}
            configs = {server.name: server.config for server in chosen}
            view = aggregate(listed, configs, server_names=self._server_names)
            _keep(self._views, key, view)
        return view

    def _drop_outdated_views(self) -> None:
        if self._views_version != self._version:
            self._views.clear()
            self._kept_views.clear()
            self._views_version = self._version

    # --- refreshing ----------------------------------------------------------------------------

    async def refresh_server(self, name: str) -> ServerTools:
        """Fetch ``name``'s tools now (joins a refresh already running)."""
        server = self._directory.get_enabled(name)
        await self._refresh_in_background(server)
        return self._entries[name]

    def on_notification(self, server: str, message: Message) -> None:
        """Backend notifications: ``tools/list_changed`` triggers a refresh."""
        if message.method != "notifications/tools/list_changed":
            return
        entry = self._entries.get(server)
        if entry is not None:
            entry.fetched_at = None
        registered = self._directory.find(server)
        if registered is not None and registered.config.enabled:
            self._refresh_in_background(registered)

    def start(self) -> None:
        """Keep every enabled server's entry fresh so requests rarely meet a stale one."""
        if self._task is None:
            self._task = asyncio.create_task(self._refresh_forever(), name="tool-catalog")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._refreshing.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    def _is_stale(self, entry: ServerTools) -> bool:
        return entry.fetched_at is None or time.monotonic() - entry.fetched_at >= self._ttl

    def _refresh_in_background(self, server: RegisteredServer) -> asyncio.Task[None]:
        running = self._refreshing.get(server.name)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(self._fetch(server), name=f"tools/list:{server.name}")
        self._refreshing[server.name] = task
        return task

    async def _fetch(self, server: RegisteredServer) -> None:
        with _tracer.start_as_current_span(
            f"catalog refresh {server.name}", attributes={"mcp.server": server.name}
        ) as span:
            await self._fetch_listings(server)
            entry = self._entries.get(server.name)
            if entry is not None and entry.error is not None:
                span.set_status(StatusCode.ERROR, entry.error)
            elif entry is not None and entry.tools is not None:
                span.set_attribute("mcp.tool_count", len(entry.tools))

    async def _fetch_listings(self, server: RegisteredServer) -> None:
        entry = self._entries.setdefault(server.name, ServerTools(server.name))
        client = self._pool.client(server)
        try:
            tools = await client.list_tools()
            capabilities = client.session.capabilities
            resources = await _optional(client.list_all("resources/list")) if "resources" in capabilities else []
            templates = (
                await _optional(client.list_all("resources/templates/list")) if "resources" in capabilities else []
            )
            prompts = await _optional(client.list_all("prompts/list")) if "prompts" in capabilities else []
        except GatewayError as exc:
            entry.error = exc.message
            logger.warning("listing failed: %s", exc.message)
        else:
            changed = entry.tools != tools
            entry.tools, entry.error, entry.fetched_at = tools, None, time.monotonic()
            entry.resources, entry.templates, entry.prompts = resources, templates, prompts
            if changed:
                self._announce_change()
        finally:
            entry.refreshed_at = datetime.now(UTC)
            self._refreshing.pop(server.name, None)

    async def _refresh_forever(self) -> None:
        period = max(self._ttl / 2, 1.0)
        while True:
            for server in self._directory.enabled():
                entry = self._entries.get(server.name)
                if entry is None or self._is_stale(entry) or time.monotonic() - (entry.fetched_at or 0) > period:
                    self._refresh_in_background(server)
            await asyncio.sleep(period)

    def watch(self) -> asyncio.Queue[None]:
        """A queue that receives an item whenever the aggregated tool list may have changed."""
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[None]) -> None:
        self._watchers.discard(queue)

    def _announce_change(self) -> None:
        self._version += 1
        for queue in self._watchers:
            if queue.empty():  # one pending signal is enough: the watcher re-lists anyway
                queue.put_nowait(None)

    def _server_changed(self, name: str, server: RegisteredServer | None) -> None:
        # A new URL, auth or allow-list may mean other tools: forget what we knew.
        self._entries.pop(name, None)
        self._announce_change()
        running = self._refreshing.pop(name, None)
        if running is not None:
            running.cancel()
        if server is not None and server.config.enabled and self._task is not None:
            self._refresh_in_background(server)


def _keep(views: dict[Any, Catalog], key: Hashable, view: Catalog) -> None:
    if len(views) >= _MAX_VIEWS:
        views.pop(next(iter(views)))  # the oldest
    views[key] = view


async def _optional(listing: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A list a server announced but answers with a JSON-RPC error counts as empty (its tools still count)."""
    try:
        return await listing
    except BackendRpcError as exc:
        logger.info("ignoring %s", exc.message)
        return []
