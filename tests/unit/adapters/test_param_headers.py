from __future__ import annotations

from typing import Any

import pytest

from app.adapters.mcp_client.param_headers import param_header_values, param_headers_of


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_annotated_properties_become_headers_with_encoded_values() -> None:
    headers = param_headers_of(
        schema(
            region={"type": "string", "x-mcp-header": "Region"},
            limit={"type": "integer", "x-mcp-header": "Limit"},
            dry={"type": "boolean", "x-mcp-header": "Dry-Run"},
            filter={"type": "object", "properties": {"tenant": {"type": "string", "x-mcp-header": "Tenant"}}},
            query={"type": "string"},
        )
    )
    assert headers == (
        (("region",), "Region"),
        (("limit",), "Limit"),
        (("dry",), "Dry-Run"),
        (("filter", "tenant"), "Tenant"),
    )
    values = param_header_values(headers, {"region": "eu-west", "limit": 5, "dry": False, "filter": {"tenant": "café"}})
    assert values["mcp-param-Region"] == "eu-west"
    assert values["mcp-param-Limit"] == "5"
    assert values["mcp-param-Dry-Run"] == "false"
    assert values["mcp-param-Tenant"].startswith("=?base64?")
    assert param_header_values(headers, {"region": None}) == {}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (schema(n={"type": "number", "x-mcp-header": "N"}), "not string, integer or boolean"),
        (schema(a={"type": "string", "x-mcp-header": "bad token"}), "not an HTTP token"),
        (schema(a={"type": "string", "x-mcp-header": "X"}, b={"type": "string", "x-mcp-header": "x"}), "repeat"),
        (schema(a={"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}), "not allowed"),
        ({"type": "object", "oneOf": [schema(a={"type": "string", "x-mcp-header": "A"})]}, "not allowed"),
    ],
)
def test_invalid_annotations_are_refused(bad: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        param_headers_of(bad)


def test_schemas_without_annotations_need_no_headers() -> None:
    assert param_headers_of(schema(q={"type": "string"})) == ()
    assert param_headers_of(None) == ()
