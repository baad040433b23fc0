# MCP Gateway — `just` lists these recipes. Tools come from deploy/requirements-dev.lock into .venv.

uv := "python3 -m uv"
bin := ".venv/bin"

# List the recipes
default:
    @just --list --unsorted

# Create .venv and install the gateway with its locked runtime and dev dependencies
install:
    {{uv}} venv -q --allow-existing
    {{uv}} pip install -q -p .venv -r deploy/requirements-dev.lock -e .

# Re-resolve both lock files after a dependency change in pyproject.toml
lock:
    {{uv}} pip compile -q pyproject.toml --universal --python-version 3.11 --generate-hashes -o deploy/requirements.lock
    {{uv}} pip compile -q pyproject.toml --group dev --universal --python-version 3.11 --generate-hashes -o deploy/requirements-dev.lock

# Start the gateway on 127.0.0.1:8000 (extra arguments go to `mcp-gateway serve`)
run *ARGS: install
    {{bin}}/mcp-gateway serve {{ARGS}}

# Start the gateway and restart it on code changes
dev: install
    {{bin}}/mcp-gateway serve --reload

# Run the whole test suite (SQLite and PostgreSQL; pass pytest arguments, e.g. `just test -m "not slow"`)
test *ARGS: install
    {{bin}}/pytest {{ARGS}}

# Lint and check formatting
lint: install
    {{bin}}/ruff check app tests migrations
    {{bin}}/ruff format --check app tests migrations

# Format the code and apply safe lint fixes
fmt: install
    {{bin}}/ruff format app tests migrations
    {{bin}}/ruff check --fix app tests migrations

# Type-check app/ (mypy, strict)
typecheck: install
    {{bin}}/mypy

# Apply migrations to DATABASE_URL (what a PostgreSQL deployment runs before starting replicas)
db-upgrade: install
    {{bin}}/mcp-gateway db upgrade --no-prompt

# Generate a migration from model changes; read and edit it before committing
db-migrate MSG: install
    {{bin}}/alembic revision --autogenerate -m "{{MSG}}"
    {{bin}}/ruff format migrations

# Performance suite against the targets (real processes, wrk if installed; writes tests/benchmarks/results/)
bench *ARGS: install
    {{bin}}/python -m tests.benchmarks.run_all {{ARGS}}

# Short run of the whole performance suite (1 run of 2 s per figure, about 80 s; results in a temp dir)
bench-quick *ARGS: install
    {{bin}}/python -m tests.benchmarks.run_all --quick {{ARGS}}

# Profile the gateway during the c=10 invoke run: top functions and libraries by own time
bench-profile *ARGS: install
    {{bin}}/python -m tests.benchmarks.profile_gateway {{ARGS}}

# Measure the per-request cost of token verification with warm key and introspection caches
bench-auth *ARGS: install
    {{bin}}/python -m tests.benchmarks.bench_auth {{ARGS}}

# Lint the Helm chart, render it with several value sets and validate every manifest (offline)
helm-check: install
    {{bin}}/pytest -q -p no:cacheprovider tests/deploy/test_helm_chart.py

# Build the container image mcp-gateway:local from deploy/Dockerfile (needs Docker)
image TAG="mcp-gateway:local":
    docker build -f deploy/Dockerfile -t {{TAG}} .

# Everything CI runs: lint, types, tests
check: lint typecheck test
