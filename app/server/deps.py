"""Dependency providers for controllers."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.providers import create_service_provider

from app.domain.registry import RegistryService

__all__ = ("provide_registry_service",)

provide_registry_service = create_service_provider(RegistryService)
"""A ``RegistryService`` on the request's session (committed by the autocommit handler on 2xx)."""
