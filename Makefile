# LangOrch — `make run` serves the product, `make test` runs every suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run migrate test lint typecheck pytest pytest-pure test-ui ui bench install native clean

$(STAMP): backend/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e 'backend[dev,secrets]'
	touch $(STAMP)

install: $(STAMP)

# The compiler's modules built with mypyc (backend/langorch/ckp/native.py says how they
# are chosen over the sources). Rebuilt when a compiler source changes; until then, and
# when a build fails, the pure-Python modules run.
NATIVE := backend/build/native/manifest.json
NATIVE_SRC := $(wildcard backend/langorch/ckp/*.py) backend/native_build.py

$(NATIVE): $(STAMP) $(NATIVE_SRC)
	$(BIN)/python backend/native_build.py

native: $(NATIVE)

lint: $(STAMP)
	$(BIN)/ruff check backend/langorch backend/native_build.py tests bench alembic
	cd backend && ../$(BIN)/mypy langorch native_build.py

pytest: $(STAMP) $(NATIVE)
	$(BIN)/pytest -q tests
	$(MAKE) pytest-pure

# The compiler and CLI suites again on the pure-Python modules.
pytest-pure: $(STAMP)
	LANGORCH_NATIVE=0 $(BIN)/pytest -q tests/ckp tests/test_cli.py tests/test_examples.py

# The operator UI: npm ci from the committed lock file, then lint, types, unit tests, the
# static build and the browser end-to-end suite (it installs Debian's chromium if missing).
UI_DEPS := frontend/node_modules/.installed
UI_OUT := frontend/out/index.html
UI_SRC := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/package.json frontend/next.config.ts

$(UI_DEPS): frontend/package-lock.json
	node frontend/scripts/check-lock.mjs
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(UI_OUT): $(UI_DEPS) $(UI_SRC)
	cd frontend && npm run build

ui: $(UI_OUT)

test-ui: $(STAMP) $(UI_DEPS)
	cd frontend && npm run lint && npm run typecheck && npm test
	$(MAKE) ui
	cd frontend && npm run e2e

test: lint pytest test-ui

bench: $(STAMP) $(NATIVE)
	$(BIN)/python bench/run_bench.py

# The database `make run` and `make migrate` use: LANGORCH_DB__URL when set, else a SQLite file under var/.
DB_URL := $(or $(LANGORCH_DB__URL),sqlite+aiosqlite:///./var/langorch.db)
# `make run PORT=9000 HOST=0.0.0.0`; without them, LANGORCH_API__PORT / LANGORCH_API__HOST, else 127.0.0.1:8000.
PORT ?=
HOST ?=

run: $(STAMP) $(NATIVE) $(UI_OUT)
	mkdir -p var
	LANGORCH_DB__URL='$(DB_URL)' $(BIN)/langorch serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT)) \
		--load-examples ckp_examples

migrate: $(STAMP)
	mkdir -p var
	LANGORCH_DB__URL='$(DB_URL)' $(BIN)/langorch migrate

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules frontend/out backend/build
