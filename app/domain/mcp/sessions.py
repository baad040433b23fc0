"""Self-contained handshake-era session ids: any replica can check them, none has to remember them.

A session id is ``<payload>.<signature>``: the base64url JSON of what the gateway needs to serve the
session (protocol version, the client's capabilities and name, issue time) and an HMAC-SHA256 over
it with ``MCP_SESSION_SECRET``. Every replica configured with the same secret accepts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ("PendingInput", "SessionCodec", "SessionState")


class SessionState(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={
        "protocol_version": "v",
        "capabilities": "c",
        "client": "n",
        "subject": "u",
        "issued_at": "t",
        "nonce": "r",
    },
):
    """What a session id carries."""

    protocol_version: str
    capabilities: dict[str, Any] = msgspec.field(default_factory=dict)
    """The client's declared capabilities (what may be relayed to it)."""
    client: str = ""
    """The client's name, for logs."""
    subject: str = ""
    """The principal that opened the session; another caller presenting the id gets 404."""
    issued_at: int = 0
    nonce: str = ""


class PendingInput(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={"server": "s", "tool": "t", "state": "b", "subject": "u", "issued_at": "i"},
):
    """What the gateway's ``requestState`` carries between the rounds of a multi-round-trip ``tools/call``."""

    server: str
    """The backend that asked for input (the retry goes back to it)."""
    tool: str
    """The backend's own tool name."""
    state: str | None = None
    """The backend's ``requestState``, passed back unchanged."""
    subject: str = ""
    """The caller that started the call; nobody else may continue it."""
    issued_at: int = 0


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SessionState)
_pending_decoder = msgspec.json.Decoder(PendingInput)
_STATE_MAX_AGE = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Issues and checks session ids signed with one secret."""

    __slots__ = ("_key", "_max_age", "ended")

    def __init__(self, secret: str, *, max_age_seconds: int = 24 * 3600) -> None:
        self._key = hashlib.sha256(secret.encode("utf-8")).digest()
        self._max_age = max_age_seconds
        self.ended: Callable[[str], bool] = lambda nonce: False
        """Whether the session with this nonce was ended (DELETE); set to ``EndedSessions.is_ended`` at start."""

    def issue(self, protocol_version: str, capabilities: dict[str, Any], client: str, subject: str = "") -> str:
        state = SessionState(
            protocol_version=protocol_version,
            capabilities=capabilities,
            client=client[:64],
            subject=subject,
            issued_at=int(time.time()),
            nonce=secrets.token_urlsafe(12),
        )
        payload = _b64(_encoder.encode(state))
        return f"{payload}.{self._sign(payload)}"

    def open(self, session_id: str) -> SessionState | None:
        """The state in ``session_id``, or ``None`` if it is forged, malformed or expired."""
        payload, _, signature = session_id.partition(".")
        if not payload or not signature or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            state = _decoder.decode(_unb64(payload))
        except (msgspec.DecodeError, ValueError):
            return None
        if time.time() - state.issued_at > self._max_age or self.ended(state.nonce):
            return None
        return state

    def expires_at(self, state: SessionState) -> int:
        """When ``state``'s session id stops being accepted (epoch seconds)."""
        return state.issued_at + self._max_age

    def seal_input(self, pending: PendingInput) -> str:
        """The ``requestState`` the gateway hands to a 2026-07-28 caller when a backend needs input."""
        payload = _b64(_encoder.encode(msgspec.structs.replace(pending, issued_at=int(time.time()))))
        return f"{payload}.{self._sign('input:' + payload)}"

    def open_input(self, token: str) -> PendingInput | None:
        """The pending call a retry's ``requestState`` continues, or ``None`` if forged, malformed or stale."""
        payload, _, signature = token.partition(".")
        if not payload or not signature or not hmac.compare_digest(signature, self._sign("input:" + payload)):
            return None
        try:
            pending = _pending_decoder.decode(_unb64(payload))
        except (msgspec.DecodeError, ValueError):
            return None
        if time.time() - pending.issued_at > _STATE_MAX_AGE:
            return None
        return pending

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())
