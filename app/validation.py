"""msgspec validation messages, re-worded to name the offending key the way users write it."""

from __future__ import annotations

import re

import msgspec

__all__ = ("describe_problem", "describe_validation_error")

_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def describe_problem(reason: str, path: str) -> str:
    """``("Object contains unknown field `x`", "auth")`` → ``"unknown key 'auth.x'"``, else ``key 'path': why``."""
    path = path.removeprefix("$").lstrip(".")
    if match := _UNKNOWN.match(reason):
        return f"unknown key '{_join(path, match['field'])}'"
    if match := _MISSING.match(reason):
        return f"missing required key '{_join(path, match['field'])}'"
    return f"key '{path}': {reason}" if path else reason


def describe_validation_error(exc: msgspec.ValidationError) -> str:
    """Describe msgspec's ``"<reason> - at `$.a.b`"`` with :func:`describe_problem`."""
    reason, _, where = str(exc).partition(" - at ")
    return describe_problem(reason, where.strip("`"))


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field
