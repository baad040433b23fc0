"""Schemathesis against the gateway's own OpenAPI document: no input an API client can send yields a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.fuzz.conftest import assert_alive

pytestmark = pytest.mark.slow


def _operations(gateway_url: str) -> Iterator[tuple[str, Any]]:
    document = httpx.get(f"{gateway_url}/schema/openapi.json", timeout=10).json()
    # /mcp is JSON-RPC, fuzzed by test_mcp_fuzz.py with protocol-aware strategies.
    schema = schemathesis.openapi.from_dict(document).exclude(path="/mcp")
    for result in schema.get_all_operations():
        operation = result.ok()
        yield operation.label, operation


def test_every_operation_is_fuzzed(gateway_url: str) -> None:
    labels = {label for label, _ in _operations(gateway_url)}
    assert {"POST /mcp/invoke", "POST /mcp/invoke-broadcast", "POST /mcp/servers", "GET /tools"} <= labels


def test_no_client_input_causes_a_server_error(gateway_url: str) -> None:
    operations = [operation for _, operation in _operations(gateway_url)]
    failures: list[str] = []

    @given(st.sampled_from(operations).flatmap(lambda operation: operation.as_strategy()))
    @settings(
        max_examples=40 * len(operations),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(base_url=gateway_url, timeout=15)
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except AssertionError:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
            raise

    fuzz()
    assert failures == []
    assert_alive(gateway_url)
