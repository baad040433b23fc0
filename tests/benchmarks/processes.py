"""The measured processes: benchmark backends, ``mcp-gateway serve``, and a CPU / memory sampler.

Every process runs on 127.0.0.1 with an ephemeral port and is stopped (SIGTERM, then waited for) when
its context manager exits. The gateway runs as deployed (``mcp-gateway serve`` installed from the runtime
lock alone, picking uvloop and httptools), from a scratch directory holding its servers file and SQLite
database.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

__all__ = (
    "Backend",
    "Gateway",
    "ResourceUsage",
    "bare_hop",
    "deployed_gateway",
    "echo_backend",
    "fleet_backend",
    "free_port",
    "gateway",
    "gateway_install",
    "sample_resources",
)

ROOT = Path(__file__).resolve().parents[2]
DEV_GATEWAY = str(Path(sys.executable).with_name("mcp-gateway"))


@functools.cache
def deployed_gateway() -> str:
    """``mcp-gateway`` installed as the image installs it: ``deploy/requirements.lock`` and the project, no
    development packages (which would be imported too, e.g. numpy by advanced-alchemy, and inflate RSS).

    The virtual environment is built once per lock file (uv, under ``~/.cache/mcp-gateway-bench``); without
    uv the development install is measured instead (``gateway_install`` in the results says which)."""
    lock = ROOT / "deploy" / "requirements.lock"
    # Keyed by lock and checkout: the project is installed editable, so each checkout needs its own.
    key = hashlib.sha256(lock.read_bytes() + str(ROOT).encode()).hexdigest()[:16]
    home = Path.home() / ".cache" / "mcp-gateway-bench" / key
    command = home / "bin" / "mcp-gateway"
    if command.exists():
        return str(command)
    uv = [shutil.which("uv")] if shutil.which("uv") else [sys.executable, "-m", "uv"]
    try:
        subprocess.run([*uv, "venv", "-q", str(home)], check=True, capture_output=True)
        # Bytecode compiled at install, as pip does for the image: otherwise the first gateway started compiles
        # every module in memory and measures ~10 MB more RSS than any later one.
        install = [*uv, "pip", "install", "-q", "--compile-bytecode", "-p", str(home)]
        subprocess.run([*install, "-r", str(lock)], check=True, capture_output=True)
        install_project = [*install, "--no-deps", "-e", str(ROOT)]
        subprocess.run(install_project, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(home, ignore_errors=True)
        return DEV_GATEWAY
    return str(command)


def gateway_install() -> str:
    """What the measured gateway runs on: ``runtime lock`` or ``development venv``."""
    return "development venv" if deployed_gateway() == DEV_GATEWAY else "runtime lock"


QUIET_GATEWAY = {"LOG_LEVEL": "WARNING", "AUDIT_LOG_FILE": "", "AUDIT_DB_ENABLED": "false"}
"""Gateway settings of the plain proxy: no audit sinks (their cost is measured separately)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = log.read_text() if log is not None and log.exists() else ""
            raise RuntimeError(f"{url}: process exited with {process.returncode}\n{detail}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def _process(command: list[str], health_url: str, *, env: Mapping[str, str] | None = None, cwd: Path | None = None):
    log_path = Path(tempfile.mkstemp(prefix="mcp-gateway-bench-", suffix=".log")[1])
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(health_url, process, log_path)
        yield process
    except BaseException:
        # What the process said helps explain a failed run (its log is removed below).
        sys.stderr.write(f"--- last output of {' '.join(command)} ---\n{log_path.read_text()[-4000:]}\n")
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Backend:
    url: str
    """The MCP endpoint."""
    pid: int
    """Its process (to measure the backend's own CPU per call beside the gateway's)."""


@contextlib.contextmanager
def echo_backend() -> Iterator[Backend]:
    """One SDK server (stateless JSON, ``echo``)."""
    port = free_port()
    command = [sys.executable, "-m", "tests.benchmarks.echo_backend", str(port)]
    with _process(command, f"http://127.0.0.1:{port}/") as process:
        yield Backend(url=f"http://127.0.0.1:{port}/mcp", pid=process.pid)


@contextlib.contextmanager
def bare_hop(backend_url: str) -> Iterator[Backend]:
    """The yardstick forwarder of ``bare_hop.py`` in front of ``backend_url``."""
    port = free_port()
    command = [sys.executable, "-m", "tests.benchmarks.bare_hop", str(port), backend_url]
    with _process(command, f"http://127.0.0.1:{port}/") as process:
        yield Backend(url=f"http://127.0.0.1:{port}/mcp", pid=process.pid)


@contextlib.contextmanager
def fleet_backend(servers: int, *, tools: int = 2, slow_server: int | None = None) -> Iterator[list[str]]:
    """One process serving ``servers`` MCP endpoints (see ``fleet_backend.py``); yields their URLs."""
    port = free_port()
    command = [sys.executable, "-m", "tests.benchmarks.fleet_backend", str(port), "--servers", str(servers)]
    command += ["--tools", str(tools)]
    if slow_server is not None:
        command += ["--slow-server", str(slow_server)]
    with _process(command, f"http://127.0.0.1:{port}/"):
        yield [f"http://127.0.0.1:{port}/s{i}/mcp" for i in range(servers)]


@dataclass(frozen=True)
class Gateway:
    url: str
    """Base URL, e.g. ``http://127.0.0.1:PORT``."""
    pid: int
    workdir: Path


@contextlib.contextmanager
def gateway(
    servers: Mapping[str, str], settings: Mapping[str, str] | None = None, *, launcher: Sequence[str] | None = None
) -> Iterator[Gateway]:
    """``mcp-gateway serve`` with ``servers`` (name → URL) in its servers file and ``settings`` over
    :data:`QUIET_GATEWAY`; the environment is otherwise empty (PATH and HOME only). ``launcher`` replaces
    the ``mcp-gateway`` command (the profiler's wrapper)."""
    workdir = Path(tempfile.mkdtemp(prefix="mcp-gateway-bench-"))
    lines = ["servers:"] + [f"  {name}:\n    url: {url}\n    timeout: 30" for name, url in servers.items()]
    (workdir / "mcp_servers.yaml").write_text("\n".join(lines) + "\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'gw.db'}",
        **QUIET_GATEWAY,
        **(settings or {}),
    }
    port = free_port()
    command = [*(launcher or (deployed_gateway(),)), "serve", "--port", str(port), "--no-access-log"]
    url = f"http://127.0.0.1:{port}"
    with _process(command, f"{url}/health", env=env, cwd=workdir) as process:
        yield Gateway(url=url, pid=process.pid, workdir=workdir)


@dataclass
class ResourceUsage:
    """What a process used during a run (filled in when the ``sample_resources`` block ends)."""

    cpu_seconds: float = 0.0
    """User + system CPU time."""
    peak_rss_mb: float = 0.0
    """Largest resident set size seen (sampled every 20 ms)."""


@contextlib.contextmanager
def sample_resources(pid: int) -> Iterator[ResourceUsage]:
    """Measure CPU time and peak RSS of process ``pid`` while the block runs."""
    process = psutil.Process(pid)
    usage = ResourceUsage()
    stop = threading.Event()

    def sample() -> None:
        while True:
            with contextlib.suppress(psutil.Error):
                usage.peak_rss_mb = max(usage.peak_rss_mb, process.memory_info().rss / 2**20)
            if stop.wait(0.02):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    before = process.cpu_times()
    sampler.start()
    try:
        yield usage
    finally:
        stop.set()
        sampler.join()
        after = process.cpu_times()
        usage.cpu_seconds = (after.user - before.user) + (after.system - before.system)
