from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from app.adapters.credentials import CredentialStore
from app.errors import CredentialUnavailable
from tests.integration.conftest import VAULT_TOKEN


async def test_env_ref_reads_the_variable(http: httpx.AsyncClient) -> None:
    store = CredentialStore(http, environ={"API_KEY": "k-123"})
    assert await store.resolve("env://API_KEY") == "k-123"


async def test_env_ref_that_is_unset_names_the_variable_not_a_value(http: httpx.AsyncClient) -> None:
    store = CredentialStore(http, environ={"OTHER": "secret-other"})
    with pytest.raises(CredentialUnavailable) as info:
        await store.resolve("env://MISSING_TOKEN")
    assert "env://MISSING_TOKEN" in info.value.message
    assert "MISSING_TOKEN is not set" in info.value.message
    assert info.value.status_code == 503


async def test_file_ref_reads_the_first_line_trimmed(http: httpx.AsyncClient, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("  file-SECRET  \nsecond line ignored\n")
    assert await CredentialStore(http).resolve(f"file://{secret}") == "file-SECRET"


@pytest.mark.parametrize(
    ("content", "reason"), [(None, "file not found"), ("", "first line is empty"), ("\n\nx", "first line is empty")]
)
async def test_file_ref_failures_say_why_without_content(
    http: httpx.AsyncClient, tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CredentialUnavailable, match=reason) as info:
        await CredentialStore(http).resolve(f"file://{path}")
    assert str(path) in info.value.message


async def test_vault_ref_reads_kv_v2_fields(http: httpx.AsyncClient, vault_url: str) -> None:
    store = CredentialStore(http, vault_addr=vault_url, vault_token=VAULT_TOKEN)
    assert await store.resolve("vault://secret/mcp/figma#token") == "figd_FIGMA_SECRET"
    assert await store.resolve("vault://secret/mcp/single") == "ONLY-ONE-FIELD"  # the only field


@pytest.mark.parametrize(
    ("ref", "token", "reason"),
    [
        ("vault://secret/mcp/absent#token", VAULT_TOKEN, "HTTP 404"),
        ("vault://secret/mcp/figma#token", "wrong-token", "HTTP 403"),
        ("vault://secret/mcp/multi", VAULT_TOKEN, "field 'value' is missing .*fields: password, user"),
        ("vault://secret/mcp/figma#nope", VAULT_TOKEN, "field 'nope' is missing"),
        ("vault://only-mount", VAULT_TOKEN, "use vault://<mount>/<path>"),
    ],
)
async def test_vault_failures_name_the_ref_and_reason_never_secrets(
    http: httpx.AsyncClient, vault_url: str, ref: str, token: str, reason: str
) -> None:
    store = CredentialStore(http, vault_addr=vault_url, vault_token=token)
    with pytest.raises(CredentialUnavailable, match=reason) as info:
        await store.resolve(ref)
    assert ref in info.value.message
    for secret in ("figd_FIGMA_SECRET", "pw-MULTI", VAULT_TOKEN, "wrong-token"):
        assert secret not in info.value.message


async def test_vault_without_address_says_what_to_set(http: httpx.AsyncClient) -> None:
    with pytest.raises(CredentialUnavailable, match="VAULT_ADDR and VAULT_TOKEN"):
        await CredentialStore(http).resolve("vault://secret/x#y")


async def test_vault_unreachable_is_reported(http: httpx.AsyncClient) -> None:
    store = CredentialStore(http, vault_addr="http://127.0.0.1:1", vault_token=VAULT_TOKEN)
    with pytest.raises(CredentialUnavailable, match="Vault unreachable"):
        await store.resolve("vault://secret/mcp/figma#token")


async def test_unknown_scheme_and_plain_values_are_refused(http: httpx.AsyncClient) -> None:
    store = CredentialStore(http)
    with pytest.raises(CredentialUnavailable, match="unknown scheme 'aws'"):
        await store.resolve("aws://x")
    with pytest.raises(CredentialUnavailable, match="not a reference"):
        await store.resolve("plain-secret")


async def test_values_are_cached_until_invalidated(http: httpx.AsyncClient) -> None:
    environ = {"TOKEN": "v1"}
    store = CredentialStore(http, environ=environ, cache_seconds=60)
    assert await store.resolve("env://TOKEN") == "v1"
    environ["TOKEN"] = "v2"
    assert await store.resolve("env://TOKEN") == "v1"
    store.invalidate("env://TOKEN")
    assert await store.resolve("env://TOKEN") == "v2"


async def test_zero_cache_reads_every_time(http: httpx.AsyncClient) -> None:
    environ = {"TOKEN": "v1"}
    store = CredentialStore(http, environ=environ, cache_seconds=0)
    assert await store.resolve("env://TOKEN") == "v1"
    environ["TOKEN"] = "v2"
    assert await store.resolve("env://TOKEN") == "v2"


async def test_failures_are_not_cached(http: httpx.AsyncClient) -> None:
    environ: dict[str, str] = {}
    store = CredentialStore(http, environ=environ)
    with pytest.raises(CredentialUnavailable):
        await store.resolve("env://LATE")
    environ["LATE"] = "now-set"
    assert await store.resolve("env://LATE") == "now-set"


async def test_concurrent_first_lookups_share_one_vault_call(http: httpx.AsyncClient, vault_url: str) -> None:
    calls = 0

    async def count(request: httpx.Request) -> None:
        nonlocal calls
        calls += 1

    async with httpx.AsyncClient(event_hooks={"request": [count]}) as counting:
        store = CredentialStore(counting, vault_addr=vault_url, vault_token=VAULT_TOKEN)
        values = await asyncio.gather(*(store.resolve("vault://secret/mcp/figma#token") for _ in range(20)))
    assert set(values) == {"figd_FIGMA_SECRET"}
    assert calls == 1
