"""Console entry point: ``mcp-gateway`` is Litestar's CLI bound to this gateway's app factory."""

from __future__ import annotations

import os
import sys

__all__ = ("main",)


def main() -> None:
    """Run ``mcp-gateway [serve|servers|db|…]``; configuration errors exit with status 2 and one clear line."""
    os.environ.setdefault("LITESTAR_APP", "app.asgi:create_app")
    from litestar.cli.main import litestar_group

    from app.errors import ConfigError

    litestar_group.help = (
        "MCP Gateway: one secure front door through which AI agents reach many MCP servers.\n\n"
        "Settings come from the environment and .env (see .env.example); backends from MCP_SERVERS_FILE."
    )
    try:
        litestar_group(prog_name="mcp-gateway")
    except ConfigError as exc:
        print(f"mcp-gateway: configuration error: {exc.message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
