# LangOrch — `make run` serves the product, `make test` runs every suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench install clean

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

run: $(STAMP)
	$(BIN)/langorch validate --no-warnings ckp_examples/*.json
	@echo
	@echo "The API server and UI arrive with issues #4/#5. Run a procedure headless with:"
	@echo "  $(BIN)/langorch run ckp_examples/<file>.json [--input k=v] [--agent CHANNEL=URL] [--approve]"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
