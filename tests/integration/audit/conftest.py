"""Audit tests reuse the secured gateway and token authority of the security tests (for denials)."""

from __future__ import annotations

from tests.integration.security.conftest import idp, secured

__all__ = ("idp", "secured")
