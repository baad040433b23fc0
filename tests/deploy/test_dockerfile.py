"""deploy/Dockerfile: its static properties, and its build replayed without Docker.

The replay follows the builder stage: the files its ``COPY`` lines bring in (filtered by ``.dockerignore``) go into
a fresh source tree, the runtime lock and then the project are installed into a fresh venv, and the runtime
stage's ``ENV``, ``ENTRYPOINT``/``CMD`` and ``HEALTHCHECK`` start and probe the installed gateway.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction (``CMD ["a", "b"]``)."""
        value = json.loads(self.arguments)
        assert isinstance(value, list), f"{self.keyword} must use the exec form: {self.arguments}"
        return [str(item) for item in value]


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.arguments):
                name, _, value = pair.partition("=")
                values[name] = value
        return values

    def copies(self) -> list[tuple[list[str], list[str], str]]:
        """``(flags, sources, destination)`` of every COPY."""
        result = []
        for instruction in self.all("COPY"):
            words = shlex.split(instruction.arguments)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            result.append((flags, paths[:-1], paths[-1]))
        return result


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ``ARG`` defaults and the stages, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(base=base, name=name))
        elif keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, rest.strip()))
    return args, stages


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches ``path`` (or one of its parent directories) decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        globs = [glob, glob.removeprefix("**/")] if glob.startswith("**/") else [glob]
        for candidate in candidates:
            names = [candidate, candidate.rsplit("/", 1)[-1]] if glob.startswith("**/") else [candidate]
            if any(fnmatch.fnmatchcase(name, g) for name in names for g in globs):
                ignored = not negated
                break
    return ignored


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))[1]


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _builder(stages: list[Stage]) -> Stage:
    [copy_from] = {flag.split("=", 1)[1] for flags, _, _ in stages[-1].copies() for flag in flags if "--from" in flag}
    [builder] = [s for s in stages if s.name == copy_from]
    return builder


def test_image_is_built_in_stages_on_a_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    for stage in stages:
        assert re.fullmatch(r"python:3\.1[12]-slim(-\w+)?", stage.base), stage.base
    assert stages[-1].base == _builder(stages).base, "the venv's interpreter must be the runtime's interpreter"


def test_runtime_runs_as_non_root_uid_10001(stages: list[Stage]) -> None:
    user = stages[-1].last("USER").arguments
    assert user.split(":")[0] == "10001"
    assert "--uid 10001" in " ".join(i.arguments for i in stages[-1].all("RUN"))


def test_runtime_stage_carries_no_build_tools_or_installers(stages: list[Stage]) -> None:
    runtime = stages[-1]
    for run in runtime.all("RUN"):
        assert not re.search(r"apt-get|apk |pip |uv |gcc|build-essential|make ", run.arguments), run.arguments
    from_builder = [(sources, dest) for flags, sources, dest in runtime.copies() if flags]
    assert from_builder == [(["/opt/venv"], "/opt/venv")], "only the venv crosses over from the builder"
    builder_venv = " ".join(i.arguments for i in _builder(stages).all("RUN"))
    assert "--without-pip" in builder_venv, "the copied venv must not bring pip along"


def test_builder_installs_the_hash_pinned_lock_then_the_project_without_dependencies(stages: list[Stage]) -> None:
    runs = [i.arguments for i in _builder(stages).all("RUN") if " install " in i.arguments]
    assert len(runs) == 2
    lock, project = runs
    assert "--require-hashes" in lock
    assert "-r deploy/requirements.lock" in lock
    assert project.split()[-2:] == ["--no-deps", "."]
    assert "-e" not in project.split(), "a wheel install, not an editable one"


def test_healthcheck_probes_liveness_with_python(stages: list[Stage]) -> None:
    healthcheck = stages[-1].last("HEALTHCHECK").arguments
    command = healthcheck.split(" CMD ", 1)[1]
    argv = json.loads(command)
    assert argv[0] == "python"
    assert "/health/live" in argv[-1]
    assert "curl" not in healthcheck
    assert "wget" not in healthcheck


def test_runtime_exposes_8000_and_serves_with_settings_from_the_environment(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert runtime.last("EXPOSE").arguments == "8000"
    assert runtime.last("ENTRYPOINT").exec_form() == ["mcp-gateway"]
    assert runtime.last("CMD").exec_form()[0] == "serve"
    env = runtime.env()
    assert env["MCP_GATEWAY_HOST"] == "0.0.0.0"
    assert env["MCP_GATEWAY_PORT"] == "8000"
    assert env["WEB_CONCURRENCY"].isdigit()


def test_everything_the_runtime_writes_by_default_goes_to_tmp(stages: list[Stage]) -> None:
    env = stages[-1].env()
    assert env["DATABASE_URL"].startswith("sqlite:////tmp/")
    assert env["AUDIT_LOG_FILE"].startswith("/tmp/")
    assert env["HOME"] == "/tmp"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_every_copied_file_exists_and_passes_the_dockerignore(stages: list[Stage], ignore_patterns: list[str]) -> None:
    for stage in stages:
        for flags, sources, _ in stage.copies():
            if flags:
                continue
            for source in sources:
                assert (ROOT / source).exists(), source
                assert not dockerignored(source, ignore_patterns), f"{source} is excluded by .dockerignore"


def test_dockerignore_keeps_secrets_and_local_state_out(ignore_patterns: list[str]) -> None:
    for path in [".env", ".venv/bin/python", ".git/config", "mcp_gateway.db", "app/__pycache__/x.pyc", "tests/x.py"]:
        assert dockerignored(path, ignore_patterns), path
    assert not dockerignored("app/asgi.py", ignore_patterns)


def _uv() -> list[str]:
    if found := shutil.which("uv"):
        return [found]
    for python in (shutil.which("python3"), sys.executable):
        if (
            python
            and subprocess.run([python, "-m", "uv", "--version"], capture_output=True, check=False).returncode == 0
        ):
            return [python, "-m", "uv"]
    pytest.skip("uv is not installed (the README's install command provides it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stage_sources(stage: Stage, ignore_patterns: list[str], target: Path) -> None:
    """What the stage's plain COPY lines put into its WORKDIR (relative destinations only)."""
    for flags, sources, destination in stage.copies():
        if flags or destination.startswith("/"):
            continue
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                dest = target / destination
                for file in origin.rglob("*"):
                    relative = file.relative_to(ROOT).as_posix()
                    if file.is_file() and not dockerignored(relative, ignore_patterns):
                        (dest / file.relative_to(origin)).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(file, dest / file.relative_to(origin))
            else:
                dest = target / destination / source if destination.endswith("/") else target / destination
                if destination in {".", "./"}:
                    dest = target / Path(source).name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, dest)


@pytest.mark.slow
def test_replayed_build_installs_a_gateway_that_answers_its_healthcheck(
    stages: list[Stage], ignore_patterns: list[str], tmp_path: Path
) -> None:
    builder, runtime = _builder(stages), stages[-1]
    source, venv, root = tmp_path / "src", tmp_path / "venv", tmp_path / "root"
    _stage_sources(builder, ignore_patterns, source)
    uv = _uv()

    def run(*argv: str) -> None:
        result = subprocess.run([*uv, *argv], cwd=source, capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr

    lock = re.search(r"-r (\S+)", builder.all("RUN")[1].arguments)
    assert lock is not None
    run("venv", "-q", "--python", sys.executable, str(venv))
    run("pip", "install", "-q", "--python", str(venv), "--require-hashes", "--no-deps", "-r", lock.group(1))
    run("pip", "install", "-q", "--python", str(venv), "--no-deps", ".")
    assert not (venv / "bin" / "pip").exists()

    # The runtime's files and environment, with its absolute paths moved under `root`.
    for flags, sources, destination in runtime.copies():
        if not flags:
            target = root / destination.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / sources[0], target)
    (root / "tmp").mkdir(parents=True)
    workdir = root / runtime.last("WORKDIR").arguments.lstrip("/")
    workdir.mkdir(parents=True)
    port = _free_port()
    env = {
        name: value.replace("/tmp/", f"{root}/tmp/").replace("/etc/", f"{root}/etc/")
        for name, value in runtime.env().items()
        if name != "PATH"
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        HOME=str(root / "tmp"),
        MCP_GATEWAY_HOST="127.0.0.1",
        MCP_GATEWAY_PORT=str(port),
    )
    argv = runtime.last("ENTRYPOINT").exec_form() + runtime.last("CMD").exec_form()
    log = (tmp_path / "gateway.log").open("w+")
    process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "gateway.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the gateway did not answer /health/live within 60 s"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["database"] == "ok"

        healthcheck = json.loads(runtime.last("HEALTHCHECK").arguments.split(" CMD ", 1)[1])
        probe = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=30, check=False)
        assert probe.returncode == 0, probe.stderr
        assert (root / "tmp" / "mcp_gateway.db").exists(), "the default SQLite database lives in /tmp"
        assert list(workdir.iterdir()) == [], "nothing may be written to the (read-only) working directory"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    # A healthcheck against a stopped gateway must fail, or it proves nothing.
    probe = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert probe.returncode != 0
