"""SIGTERM (a Kubernetes pod being replaced) lets in-flight tool calls finish before the process exits."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import GATEWAY, free_port, wait_for_health
from tests.mcp_backends import start_backend

pytestmark = pytest.mark.slow


def test_sigterm_drains_in_flight_calls(tmp_path: Path, gateway_env: dict[str, str]) -> None:
    with start_backend("slow", kind="stateless") as backend:
        (tmp_path / "mcp_servers.yaml").write_text(f"servers:\n  slow:\n    url: {backend.url}\n")
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [GATEWAY, "serve", "--port", str(port)],
                cwd=tmp_path,
                env=gateway_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base, process, log)
            answers: list[httpx.Response] = []

            def slow_call() -> None:
                answers.append(
                    httpx.post(
                        f"{base}/mcp/invoke",
                        params={"mcp_server": "slow"},
                        json={"tool_name": "sleep", "parameters": {"seconds": 1.5}},
                        timeout=30,
                    )
                )

            caller = threading.Thread(target=slow_call)
            caller.start()
            time.sleep(0.5)  # the call is now in flight
            process.send_signal(signal.SIGTERM)
            caller.join(timeout=30)
            exit_code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert answers, f"the in-flight call got no answer:\n{log.read_text()}"
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["success"] is True
    # uvicorn re-raises the signal after its graceful shutdown, so the status says "ended by SIGTERM".
    assert exit_code in {0, -signal.SIGTERM}
    assert "Finished server process" in log.read_text()
    # The audit queue was flushed on the way out: the drained call is on file.
    events = [json.loads(line) for line in (tmp_path / "audit.json").read_text().splitlines()]
    assert [(e["tool_name"], e["status"]) for e in events if e["action"] == "invoke_tool"] == [("sleep", "success")]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health/live", timeout=2)
