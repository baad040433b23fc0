"""``mcp-gateway servers …``: list and change the registry from the command line (changes are audited)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import click
import msgspec
import yaml
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.audit import audited, bind_request, reset_request
from app.domain.caller import CallContext, Principal, reset_call, set_call
from app.domain.registry import RegisteredServer, RegistryService, ServerRegistration
from app.errors import GatewayError
from app.server.database import prepare_database
from app.server.observability import build_audit_log
from app.validation import describe_validation_error

if TYPE_CHECKING:
    from app.server.core import ApplicationCore

__all__ = ("nothing", "run_async", "servers_group", "with_database")

T = TypeVar("T")


async def with_database(core: ApplicationCore, operation: Callable[[RegistryService], Awaitable[T]]) -> T:
    """Prepare the database (migrate/sync), run ``operation`` on a committed session, release the engine.

    The engine is disposed so that its pooled connections never cross into another event loop.
    """
    engine = core.db_config.get_engine()
    try:
        await prepare_database(engine, core.settings, core.file_servers)
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            result = await operation(RegistryService(session=session))
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def nothing(_: RegistryService) -> None:
    """An operation that only prepares the database (``serve`` checks it before binding)."""
    return


def run_async(operation: Callable[[], Awaitable[T]]) -> T:
    """Run one coroutine for a CLI command; gateway errors become a one-line message and exit status 2."""

    async def main() -> T:
        return await operation()

    try:
        return anyio.run(main)
    except GatewayError as exc:
        click.echo(f"mcp-gateway: {exc.message}", err=True)
        raise SystemExit(2) from None


def servers_group(core: ApplicationCore) -> click.Group:
    def run(operation: Callable[[RegistryService], Awaitable[T]]) -> T:
        return run_async(lambda: with_database(core, operation))

    def change(action: str, name: str, operation: Callable[[RegistryService], Awaitable[T]], **event: Any) -> T:
        """A registry change, recorded in the audit trail like one made through the API (user ``cli:<os user>``)."""

        async def audited_change() -> T:
            log = build_audit_log(core.settings)
            log.start()
            user = getpass.getuser()
            context = set_call(CallContext(principal=Principal(subject=f"cli:{user}", username=f"cli:{user}")))
            request = bind_request(log)
            try:
                async with audited(action, event_type="registry_change", mcp_server=name, **event):
                    return await with_database(core, operation)
            finally:
                reset_request(request)
                reset_call(context)
                await log.aclose()

        return run_async(audited_change)

    @click.group("servers", help="List and change the registered MCP servers (servers file + API/CLI).")
    def servers() -> None:
        """Registry commands."""

    @servers.command("list", help="List every registered server.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def list_command(as_json: bool) -> None:
        found = run(lambda registry: registry.list_servers())
        if as_json:
            click.echo(json.dumps([_as_dict(s) for s in found], indent=2, default=str))
            return
        rows = [("NAME", "SOURCE", "ENABLED", "TYPE", "URL", "TAGS")]
        rows += [
            (
                s.name,
                s.source,
                "yes" if s.config.enabled else "no",
                s.config.type,
                s.config.url,
                ",".join(s.config.tags),
            )
            for s in found
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    @servers.command("show", help="Show one server's configuration.")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
    def show_command(name: str, as_json: bool) -> None:
        server = run(lambda registry: registry.get_server(name))
        data = _as_dict(server)
        click.echo(json.dumps(data, indent=2, default=str) if as_json else yaml.safe_dump(data, sort_keys=False))

    @servers.command("add", help="Register a server (source=api). Options mirror the servers-file keys.")
    @click.argument("name")
    @click.option("--url", required=True, help="MCP endpoint URL.")
    @click.option("--type", "type_", help="http | streamable-http | sse | <kind>-mcp  [default: http]")
    @click.option("--timeout", type=float, help="Seconds per call  [default: 30]")
    @click.option("--description", help="Free text.")
    @click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
    @click.option("--tool", "tools", multiple=True, help="Only expose this tool (repeatable).")
    @click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Metadata entry (repeatable).")
    @click.option("--disabled", is_flag=True, help="Register but do not route traffic to it.")
    @click.option("--auth-method", type=click.Choice(["api_key", "bearer", "basic", "oauth2", "custom", "none"]))
    @click.option("--auth-location", type=click.Choice(["header", "query", "body"]))
    @click.option("--auth-name", help="Header / query parameter / body field name.")
    @click.option("--auth-format", type=click.Choice(["raw", "prefix", "template"]))
    @click.option("--auth-prefix", help="Prefix for --auth-format prefix, e.g. 'Bearer '.")
    @click.option("--auth-template", help="Template with {credential} for --auth-format template.")
    @click.option("--credential-ref", help="env://VAR, file:///path or vault://path (never the secret itself).")
    @click.option("--token-url", help="oauth2: token endpoint.")
    @click.option("--client-id", help="oauth2: client id.")
    @click.option("--scope", help="oauth2: scopes to request.")
    @click.option("--resource", help="oauth2: RFC 8707 resource to request (default: the server URL; '' for none).")
    @click.option("--username", help="basic: user name (the credential is then the password).")
    @click.option("--allow-role", "roles", multiple=True, help="Access: allowed role (repeatable).")
    @click.option("--allow-scope", "scopes", multiple=True, help="Access: allowed scope (repeatable).")
    @click.option("--allow-group", "groups", multiple=True, help="Access: allowed group (repeatable).")
    def add_command(name: str, url: str, **options: Any) -> None:
        registration = _registration(name, url, options)
        server = change(
            "register_server",
            name,
            lambda registry: registry.register(registration.name, registration.config()),
            parameters=msgspec.to_builtins(registration),
        )
        click.echo(f"registered {server.name} ({server.config.url})")

    @servers.command("remove", help="Remove an API-registered server.")
    @click.argument("name")
    def remove_command(name: str) -> None:
        change("delete_server", name, lambda registry: registry.remove(name))
        click.echo(f"removed {name}")

    @servers.command("enable", help="Route traffic to an API-registered server again.")
    @click.argument("name")
    def enable_command(name: str) -> None:
        change("enable_server", name, lambda registry: registry.set_enabled(name, True))
        click.echo(f"enabled {name}")

    @servers.command("disable", help="Stop routing traffic to an API-registered server.")
    @click.argument("name")
    def disable_command(name: str) -> None:
        change("disable_server", name, lambda registry: registry.set_enabled(name, False))
        click.echo(f"disabled {name}")

    return servers


def _registration(name: str, url: str, options: dict[str, Any]) -> ServerRegistration:
    """Assemble the same document a servers-file entry would be, and validate it the same way."""
    body: dict[str, Any] = {"name": name, "url": url}
    scalar = {"type": "type_", "timeout": "timeout", "description": "description"}
    body.update({key: options[opt] for key, opt in scalar.items() if options[opt] is not None})
    if options["tags"]:
        body["tags"] = list(options["tags"])
    if options["tools"]:
        body["tools"] = list(options["tools"])
    if options["disabled"]:
        body["enabled"] = False
    if options["metadata"]:
        body["metadata"] = {}
        for item in options["metadata"]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--metadata")
            body["metadata"][key] = value
    auth_options = {
        "method": "auth_method",
        "location": "auth_location",
        "name": "auth_name",
        "format": "auth_format",
        "prefix": "auth_prefix",
        "template": "auth_template",
        "credential_ref": "credential_ref",
        "token_url": "token_url",
        "client_id": "client_id",
        "scope": "scope",
        "resource": "resource",
        "username": "username",
    }
    auth = {key: options[opt] for key, opt in auth_options.items() if options[opt] is not None}
    if auth:
        body["auth"] = auth
    access = {key: list(options[key]) for key in ("roles", "scopes", "groups") if options[key]}
    if access:
        body["access"] = access
    try:
        return msgspec.convert(body, ServerRegistration)
    except msgspec.ValidationError as exc:
        raise click.UsageError(f"server '{name}': {describe_validation_error(exc)}") from None


def _as_dict(server: RegisteredServer) -> dict[str, Any]:
    data: dict[str, Any] = {"name": server.name, "source": server.source}
    data.update(msgspec.to_builtins(server.config))
    return data
