"""JSON-RPC 2.0 envelopes as MCP uses them, encoded and decoded with msgspec.

Results stay ``msgspec.Raw`` until someone needs their fields: a proxied result can then be
forwarded without being decoded and re-encoded.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = (
    "NO_RAW",
    "Message",
    "RpcError",
    "decode_message",
    "encode_notification",
    "encode_request",
    "encode_response",
)

_encoder = msgspec.json.Encoder()
NO_RAW = msgspec.Raw()
"""Stands for an absent params/result member."""


class RpcError(msgspec.Struct, omit_defaults=True):
    """A JSON-RPC error object."""

    code: int
    message: str
    data: Any = None


class Message(msgspec.Struct, omit_defaults=True):
    """Any JSON-RPC message: a request (``method`` + ``id``), notification (``method``), or response."""

    jsonrpc: str = "2.0"
    id: int | str | None = None
    method: str | None = None
    params: msgspec.Raw = NO_RAW
    """Raw JSON of ``params``; empty (``len() == 0``) when absent (msgspec cannot put Raw in a union)."""
    result: msgspec.Raw = NO_RAW
    """Raw JSON of ``result``; empty when absent."""
    error: RpcError | None = None

    @property
    def is_response(self) -> bool:
        return self.method is None and (len(self.result) > 0 or self.error is not None)

    @property
    def has_result(self) -> bool:
        return len(self.result) > 0


_decoder = msgspec.json.Decoder(Message)


def decode_message(data: bytes | str) -> Message:
    """Decode one JSON-RPC message.

    Raises:
        ValueError: not JSON, or not a JSON-RPC 2.0 object.
    """
    try:
        message = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        msg = f"invalid JSON-RPC message: {exc}"
        raise ValueError(msg) from None
    if message.jsonrpc != "2.0":
        msg = f"invalid JSON-RPC message: jsonrpc must be '2.0', got {message.jsonrpc!r}"
        raise ValueError(msg)
    return message


def encode_request(request_id: int | str, method: str, params: dict[str, Any] | None) -> bytes:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    return _encoder.encode(body)


def encode_notification(method: str, params: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        body["params"] = params
    return _encoder.encode(body)


def encode_response(request_id: int | str, *, error: RpcError | None = None, result: Any = None) -> bytes:
    """A response to a request the backend sent: ``error`` when given, else ``result``."""
    if error is not None:
        return _encoder.encode({"jsonrpc": "2.0", "id": request_id, "error": error})
    return _encoder.encode({"jsonrpc": "2.0", "id": request_id, "result": result if result is not None else {}})
