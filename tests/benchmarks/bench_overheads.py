"""What authentication and the audit trail add to ``POST /mcp/invoke`` at c=10.

Four gateway processes on one backend: auth off/on x audit off/on. Auth on: ``AUTH_ENABLED=true``
against a realm-shaped token authority on 127.0.0.1 (RS256 JWTs, JWKS fetched once and cached), every
request carrying a bearer token. Audit on: the JSON-lines file sink (``AUDIT_LOG_FILE``) and the
database sink (``AUDIT_DB_ENABLED``, SQLite). Rounds interleave the variants; figures are medians of
``2 * runs - 1`` rounds, as the differences sought (~15 %) are close to the machine's run-to-run noise.

Run: ``python -m tests.benchmarks.bench_overheads [--runs 3] [--duration 5] [--driver auto|wrk|python]``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from tests.benchmarks.load import Driver
from tests.benchmarks.processes import echo_backend, gateway
from tests.benchmarks.runs import echo_call, invoke_request, measure, median_run, run_from_command_line
from tests.identity_provider import IdentityProvider, run_identity_provider

__all__ = ("AUDIT_ON", "CONCURRENCY", "VARIANTS", "auth_settings", "run")

CONCURRENCY = 10
VARIANTS = {
    "auth off, audit off": (False, False),
    "auth off, audit on": (False, True),
    "auth on, audit off": (True, False),
    "auth on, audit on": (True, True),
}
"""Variant name → (authentication, audit sinks)."""
AUDIT_ON = {"AUDIT_LOG_FILE": "audit.jsonl", "AUDIT_DB_ENABLED": "true"}
"""Gateway settings of the audit-on variants: the JSON-lines file sink and the database sink."""


def auth_settings(idp: IdentityProvider) -> tuple[dict[str, str], dict[str, str]]:
    """Gateway settings that trust ``idp``'s JWTs, and request headers with a day-long RS256 token."""
    settings = {"AUTH_ENABLED": "true", "KEYCLOAK_URL": idp.base_url, "JWT_ALGORITHM": "RS256"}
    return settings, {"authorization": f"Bearer {idp.mint(exp=int(time.time()) + 24 * 3600)}"}


def run(*, runs: int, duration: float, driver: Driver) -> dict[str, Any]:
    """``{"direct": {...}, "<variant>": {...}, ...}`` at c=10, plus ``audit_settings`` used."""
    with contextlib.ExitStack() as stack:
        idp = stack.enter_context(run_identity_provider())
        backend = stack.enter_context(echo_backend())
        auth, bearer = auth_settings(idp)
        requests = {"direct": echo_call(backend.url)}
        pids: dict[str, int | None] = {"direct": backend.pid}
        for name, (auth_on, audit_on) in VARIANTS.items():
            settings = {**(auth if auth_on else {}), **(AUDIT_ON if audit_on else {})}
            gw = stack.enter_context(gateway({"echo": backend.url}, settings))
            requests[name], pids[name] = invoke_request(gw.url, "echo", bearer if auth_on else {}), gw.pid
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in requests}
        for _ in range(2 * runs - 1):
            for name, request in requests.items():
                row = measure(request, concurrency=CONCURRENCY, duration=duration, driver=driver, pid=pids[name])
                samples[name].append(row)
    results: dict[str, Any] = {name: median_run(rows) for name, rows in samples.items()}
    results["audit_settings"] = AUDIT_ON
    return results


if __name__ == "__main__":
    run_from_command_line(run, __doc__.splitlines()[0])
