# LangOrch — `make run` serves the product, `make test` runs every suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run migrate test lint typecheck pytest bench install clean

$(STAMP): backend/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e 'backend[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check backend/langorch tests bench
	cd backend && ../$(BIN)/mypy langorch

pytest: $(STAMP)
	$(BIN)/pytest -q tests

test: lint pytest

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

# The database `make run` and `make migrate` use: LANGORCH_DB__URL when set, else a SQLite file under var/.
DB_URL := $(or $(LANGORCH_DB__URL),sqlite+aiosqlite:///./var/langorch.db)

run: $(STAMP)
	mkdir -p var
	LANGORCH_DB__URL='$(DB_URL)' $(BIN)/langorch serve --host 127.0.0.1 --port 8000 --load-examples ckp_examples

migrate: $(STAMP)
	mkdir -p var
	LANGORCH_DB__URL='$(DB_URL)' $(BIN)/langorch migrate

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
