"""Every response carries the request id: the caller's when sane, a fresh one otherwise."""

from __future__ import annotations

from tests.integration.conftest import Gateway


async def test_request_id_is_echoed_when_sane(gateway: Gateway) -> None:
    async with gateway({}) as client:
        response = await client.get("/health/live", headers={"X-Request-ID": "abc-123.trace:1"})
    assert response.headers["x-request-id"] == "abc-123.trace:1"


async def test_request_id_generated_when_missing_or_unsafe(gateway: Gateway) -> None:
    async with gateway({}) as client:
        first = await client.get("/health/live")
        second = await client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(len(value) == 32 and value.isalnum() for value in ids)
