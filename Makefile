# The two commands: `make run` serves newsroom on http://127.0.0.1:8000 (SQLite, no other
# service); `make test` sets everything up and runs the suite (SQLite, then PostgreSQL + Redis).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_SYSTEM_CERTS := 1
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: run test setup setup-system lint typecheck bench lock clean

setup: $(VENV)/.synced

$(VENV)/.synced: requirements.lock pyproject.toml
	scripts/bootstrap
	@touch $@

setup-system:
	scripts/system-packages

run: setup
	APP_ENV=$${APP_ENV:-development} $(VENV)/bin/newsroom serve --host $(HOST) --port $(PORT)

test: setup setup-system
	scripts/run-tests

lint: setup
	$(VENV)/bin/ruff check src app tests
	$(VENV)/bin/ruff format --check src app tests

typecheck: setup
	$(VENV)/bin/mypy

bench: setup setup-system
	$(PY) -m tests.bench.run

lock:
	python -m uv pip compile pyproject.toml --group dev --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
