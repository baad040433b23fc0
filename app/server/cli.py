"""``mcp-gateway serve`` and ``mcp-gateway servers …``, added to Litestar's CLI by the core plugin."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeVar

import click

from app.demo import start_demo_backends
from app.server.cli_servers import nothing, run_async, servers_group, with_database

if TYPE_CHECKING:
    from litestar import Litestar

    from app.server.core import ApplicationCore

__all__ = ("register_commands",)

T = TypeVar("T")


def register_commands(cli: click.Group, core: ApplicationCore) -> None:
    """Add ``serve`` and ``servers``; drop Litestar commands that do not apply (one way to start)."""
    cli.add_command(_serve_command(core))
    cli.add_command(servers_group(core))
    for generic in ("run", "sessions"):  # Litestar's own runner and server-side sessions: not used here
        cli.commands.pop(generic, None)


def _serve_command(core: ApplicationCore) -> click.Command:
    @click.command("serve", help="Start the gateway (uvicorn; uvloop and httptools when available).")
    @click.option("--host", default="127.0.0.1", show_default=True, envvar="MCP_GATEWAY_HOST", help="Bind address.")
    @click.option("--port", default=8000, show_default=True, type=int, envvar="MCP_GATEWAY_PORT", help="Bind port.")
    @click.option("--reload", is_flag=True, help="Restart on code changes (development).")
    @click.option(
        "--workers",
        default=1,
        show_default=True,
        type=click.IntRange(min=1),
        envvar="WEB_CONCURRENCY",
        help="Processes.",
    )
    @click.option(
        "--limit-concurrency",
        default=None,
        type=click.IntRange(min=1),
        envvar="MCP_GATEWAY_LIMIT_CONCURRENCY",
        help="Connections and tasks per process beyond which new requests get 503 (default: unbounded).",
    )
    @click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every HTTP request.")
    @click.option("--demo", is_flag=True, help="Also start the two example log-cluster backends of mcp_servers.yaml.")
    def serve(
        app: Litestar,
        host: str,
        port: int,
        reload: bool,
        workers: int,
        limit_concurrency: int | None,
        access_log: bool,
        demo: bool,
    ) -> None:
        import uvicorn

        demo_backends = None
        if demo:
            try:
                demo_backends = start_demo_backends(os.environ)
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo("demo backends: demo-logs-us on 127.0.0.1:9101, demo-logs-eu on 127.0.0.1:9102", err=True)

        # Fail before binding, with one clear line, if the database is unusable (each process re-checks).
        run_async(lambda: with_database(core, nothing))
        common: dict[str, Any] = {
            "host": host,
            "port": port,
            "access_log": access_log,
            "proxy_headers": True,
            "server_header": False,
            "timeout_graceful_shutdown": 30,
            "limit_concurrency": limit_concurrency,
        }
        try:
            if reload or workers > 1:
                # Each process builds its own app from the environment.
                uvicorn.run("app.asgi:create_app", factory=True, reload=reload, workers=workers, **common)
            else:
                uvicorn.run(app, **common)
        finally:
            if demo_backends is not None:
                demo_backends.stop()

    return serve
