from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from app.adapters.mcp_client.jsonrpc import decode_message, encode_request
from app.adapters.mcp_client.protocol import encode_header_value
from app.adapters.mcp_client.sse import iter_events


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_sse_parser_handles_split_chunks_comments_and_multiline_data() -> None:
    stream = chunks(b": keep-alive\n\nevent: mess", b'age\ndata: {"a":\r\ndata: 1}\nid: 7\n\n', b"data: cut off")
    events = [e async for e in iter_events(stream)]
    # The unterminated last event is dropped, as the event-stream format requires.
    assert [(e.event, e.data, e.id) for e in events] == [("message", '{"a":\n1}', "7")]


async def test_sse_endpoint_event() -> None:
    events = [e async for e in iter_events(chunks(b"event: endpoint\ndata: /messages/?session_id=abc\n\n"))]
    assert events[0].event == "endpoint"
    assert events[0].data == "/messages/?session_id=abc"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("search_logs", "search_logs"),
        ("caf\u00e9", "=?base64?" + base64.b64encode("caf\u00e9".encode()).decode() + "?="),
        (" padded", "=?base64?" + base64.b64encode(b" padded").decode() + "?="),
        ("=?base64?x?=", "=?base64?" + base64.b64encode(b"=?base64?x?=").decode() + "?="),
    ],
)
def test_header_values_are_plain_ascii_or_base64_wrapped(value: str, encoded: str) -> None:
    assert encode_header_value(value) == encoded


def test_jsonrpc_round_trip_keeps_result_raw() -> None:
    message = decode_message(b'{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}')
    assert message.is_response
    assert bytes(message.result) == b'{"tools":[]}'
    assert decode_message(encode_request(1, "ping", None)).method == "ping"


@pytest.mark.parametrize("data", [b"not json", b'{"jsonrpc":"1.0","id":1}', b"[1,2]"])
def test_invalid_jsonrpc_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="invalid JSON-RPC message"):
        decode_message(data)
