from __future__ import annotations

from typing import Any

import msgspec

from app.domain.catalog import aggregate, tag_tool_name
from app.domain.catalog.aggregate import SERVERS_META_KEY
from app.domain.registry import ServerConfig


def tool(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}, **extra}


def config(**kwargs: Any) -> ServerConfig:
    return msgspec.convert({"url": "https://x.example.com/mcp", **kwargs}, ServerConfig)


def test_a_tool_on_one_server_keeps_its_definition_exactly() -> None:
    original = tool(
        "query_data",
        title="Query data",
        description="Runs a query",
        outputSchema={"type": "object", "properties": {"rows": {"type": "array"}}},
        annotations={"readOnlyHint": True},
        icons=[{"src": "https://x/icon.png"}],
        _meta={"vendor/x": 1},
    )
    catalog = aggregate({"db": [original]}, {"db": config()})
    route = catalog.route("query_data")
    assert route is not None
    assert (route.kind, route.servers, route.tool) == ("tool", ("db",), "query_data")
    assert route.definition == original
    assert route.definition is not original  # a copy: later edits never leak into the cache


def test_a_tool_on_several_servers_routes_to_all_and_gets_a_broadcast_twin() -> None:
    listed = {"elk-2": [tool("search_logs")], "elk-1": [tool("search_logs", title="Search")], "db": [tool("q")]}
    configs = {name: config() for name in listed}
    catalog = aggregate(listed, configs)
    shared = catalog.route("search_logs")
    assert shared is not None
    assert shared.servers == ("elk-1", "elk-2")
    assert shared.definition["title"] == "Search"  # the first server by name provides the definition
    assert shared.definition["_meta"][SERVERS_META_KEY] == ["elk-1", "elk-2"]
    assert set(shared.definition["outputSchema"]["required"]) == {"results", "errors", "metadata"}
    twin = catalog.route("broadcast__search_logs")
    assert twin is not None
    assert (twin.kind, twin.tool, twin.servers) == ("broadcast", "search_logs", ("elk-1", "elk-2"))
    assert twin.definition["inputSchema"] == listed["elk-1"][0]["inputSchema"]
    assert catalog.route("broadcast__q") is None  # only on one server


def test_every_tag_gets_a_tag_broadcast_with_a_safe_name() -> None:
    listed = {"a": [tool("search_logs")], "b": [tool("search_logs"), tool("get_indices")], "c": [tool("x")]}
    configs = {"a": config(tags=["elk-cluster", "logging"]), "b": config(tags=["elk-cluster"]), "c": config()}
    catalog = aggregate(listed, configs)
    route = catalog.route("broadcast__by_tag__elk_cluster")
    assert route is not None
    assert (route.kind, route.servers, route.tag) == ("tag", ("a", "b"), "elk-cluster")
    schema = route.definition["inputSchema"]
    assert schema["required"] == ["tool_name"]
    assert schema["properties"]["tool_name"]["enum"] == ["get_indices", "search_logs"]
    assert catalog.route("broadcast__by_tag__logging") is not None
    assert tag_tool_name("us-west 1.prod") == "broadcast__by_tag__us_west_1_prod"


def test_allow_list_hides_tools_the_config_does_not_name() -> None:
    listed = {"a": [tool("search_logs"), tool("drop_index")]}
    catalog = aggregate(listed, {"a": config(tools=["search_logs"])})
    assert [t["name"] for t in catalog.tools()] == ["search_logs"]


def test_listing_is_sorted_and_skips_invalid_or_clashing_names() -> None:
    long_name = "x" * 120
    listed = {
        "a": [tool("zeta"), tool("alpha"), tool("broadcast__alpha"), tool(long_name)],
        "b": [tool("alpha"), tool(long_name)],
    }
    catalog = aggregate(listed, {"a": config(), "b": config()})
    names = [t["name"] for t in catalog.tools()]
    assert names == sorted(names)
    assert names.count("broadcast__alpha") == 1
    assert catalog.route("broadcast__alpha") is not None
    assert catalog.route("broadcast__alpha").kind == "tool"  # the backend's own tool wins the name
    assert long_name in names
    assert f"broadcast__{long_name}" not in names  # would exceed 128 characters


def test_server_names_add_one_route_per_server_for_shared_tools() -> None:
    listed = {"elk-1": [tool("search_logs")], "elk-2": [tool("search_logs")], "db": [tool("query")]}
    configs = {name: config() for name in listed}
    plain = aggregate(listed, configs)
    named = aggregate(listed, configs, server_names=True)
    assert plain.route("elk-1__search_logs") is None
    route = named.route("elk-2__search_logs")
    assert route is not None
    assert (route.kind, route.servers, route.tool) == ("tool", ("elk-2",), "search_logs")
    assert route.definition["inputSchema"] == listed["elk-2"][0]["inputSchema"]
    assert named.route("db__query") is None  # one server already targets one server
