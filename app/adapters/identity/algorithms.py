"""Which JWT algorithms the gateway verifies, and what a JWT looks like: checked without loading the
JOSE library, which a gateway without authentication never imports (~12 MB resident)."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ("SUPPORTED_ALGORITHMS", "check_algorithms", "looks_like_jwt")

SUPPORTED_ALGORITHMS = frozenset(
    {*(f"{family}{bits}" for family in ("RS", "PS", "ES") for bits in (256, 384, 512)), "EdDSA"}
)
"""Asymmetric algorithms only: the gateway never shares a secret with the token authority."""


def check_algorithms(algorithms: Collection[str]) -> None:
    """Raise ``ValueError`` naming any algorithm the gateway does not verify (or an empty list)."""
    unknown = set(algorithms) - SUPPORTED_ALGORITHMS
    if unknown or not algorithms:
        shown = sorted(unknown) if unknown else "none"
        msg = f"unsupported JWT algorithm(s) {shown}; use any of {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
        raise ValueError(msg)


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts, header and payload non-empty (an opaque token goes to introspection instead)."""
    parts = token.split(".")
    return len(parts) == 3 and bool(parts[0]) and bool(parts[1])
