"""Talking to the token authority: discovery metadata, signing keys, JWT checks, introspection."""

from __future__ import annotations

from app.adapters.identity.introspection import TokenIntrospector
from app.adapters.identity.jwks import JwksCache
from app.adapters.identity.jwt_verifier import JwtVerifier
from app.adapters.identity.metadata import IssuerMetadata

__all__ = ("IssuerMetadata", "JwksCache", "JwtVerifier", "TokenIntrospector")
