"""Per-request cost of inbound authentication with a warm key cache.

Measures, in one process: ``JwtVerifier.verify`` (RS256 and ES256, JWKS cached), building the
Principal from the claims, and an introspected opaque token served from the introspection cache.
The token authority is a realm-shaped server on 127.0.0.1 (the one the tests use).

Run: ``python -m tests.benchmarks.bench_auth [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.adapters.identity.introspection import TokenIntrospector
from app.adapters.identity.jwks import JwksCache
from app.adapters.identity.jwt_verifier import JwtVerifier
from app.adapters.identity.metadata import IssuerMetadata
from app.domain.caller import principal_from_claims
from tests.identity_provider import AUDIENCE, INTROSPECTION_CLIENT, run_identity_provider


async def _time(label: str, rounds: int, operation: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    for _ in range(50):  # warm caches and code paths
        await operation()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        await operation()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    result = {"p50_us": statistics.median(samples), "p99_us": samples[int(len(samples) * 0.99) - 1]}
    print(f"{label:<42} p50 {result['p50_us']:8.1f} µs   p99 {result['p99_us']:8.1f} µs")
    return result


async def main(rounds: int) -> None:
    with run_identity_provider() as idp:
        async with httpx.AsyncClient() as http:
            metadata = IssuerMetadata(http, idp.issuer)

            async def jwks_uri() -> str:
                return await metadata.endpoint("jwks_uri")

            async def introspection_uri() -> str:
                return await metadata.endpoint("introspection_endpoint")

            keys = JwksCache(http, jwks_uri)
            verifier = JwtVerifier(keys, issuer=idp.issuer, audiences=[AUDIENCE], algorithms=["RS256", "ES256"])
            introspector = TokenIntrospector(
                http, introspection_uri, client_id=INTROSPECTION_CLIENT[0], client_secret=INTROSPECTION_CLIENT[1]
            )
            rs256, es256, opaque = idp.mint(), idp.mint(alg="ES256"), idp.issue_opaque()
            claims = await verifier.verify(rs256)
            await _time("verify RS256 JWT (keys cached)", rounds, lambda: verifier.verify(rs256))
            await _time("verify ES256 JWT (keys cached)", rounds, lambda: verifier.verify(es256))

            async def principal() -> None:
                principal_from_claims(claims, frozenset({"mcp-gateway-client"}))

            await _time("principal from claims", rounds, principal)
            await _time("opaque token (introspection cached)", rounds, lambda: introspector.introspect(opaque))
            print(f"JWKS downloads: {keys.fetches}; introspection requests: {introspector.calls}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rounds))
