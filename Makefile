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

WEB_SOURCES := $(shell find web/src web/client/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/package.json app/newsroom/static/newsroom.css

.PHONY: run test setup setup-system web tools lint typecheck audit bench bench-quick soak lock clean

setup: $(VENV)/.synced

# The SPA: `npm ci` when the lock changes, `vite build` when a source changes.
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build --silent

# Node tools the tests drive (the MDN HTTP Observatory scanner), from tests/tools' lock. No
# install scripts: the scanner's would download the HSTS preload list; offline it is empty.
tools: tests/tools/node_modules/.package-lock.json

tests/tools/node_modules/.package-lock.json: tests/tools/package-lock.json
	cd tests/tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	echo '{}' > tests/tools/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json

$(VENV)/.synced: requirements.lock pyproject.toml app/pyproject.toml
	scripts/bootstrap
	@touch $@

setup-system:
	scripts/system-packages

run: setup web
	APP_ENV=$${APP_ENV:-development} $(VENV)/bin/newsroom serve --host $(HOST) --port $(PORT)

test: setup setup-system web tools
	cd web && npm test --silent && npm run check:api --silent
	scripts/run-tests

lint: setup
	$(VENV)/bin/ruff check src app tests examples
	$(VENV)/bin/ruff format --check src app tests examples

typecheck: setup web/node_modules/.package-lock.json
	$(VENV)/bin/mypy
	cd web && npm run typecheck --silent

# The locked Python and npm dependencies against known advisories: fails on a known
# vulnerability; an advisory service that does not answer is printed as NOT AUDITED (and
# fails too with AUDIT_STRICT=1), never passed off as clean.
audit: setup
	VENV=$(VENV) $(PY) scripts/audit

bench: setup setup-system
	$(PY) -m tests.bench.run

bench-quick: setup setup-system
	$(PY) -m tests.bench.run --quick

# nginx + two instances + our own PostgreSQL and Redis under load, with faults injected
# (docs/deployment.md). SOAK_SECONDS=60 is CI's short form; the default is 10 minutes.
SOAK_SECONDS ?= 600
soak: setup web
	scripts/system-packages soak
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m tests.soak

# One lock for both distributions: the union of the library's (pyproject.toml) and newsroom's
# (app/pyproject.toml) dependencies plus the dev group. newsroom names flask-bastion, which no
# index has: app/pyproject.toml's [tool.uv.sources] points it at this checkout, and the lock
# leaves it out (bootstrap installs both projects editable, without dependencies).
lock:
	python -m uv pip compile pyproject.toml app/pyproject.toml --group dev --generate-hashes \
		--no-emit-package flask-bastion -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache web/node_modules web/dist tests/tools/node_modules
