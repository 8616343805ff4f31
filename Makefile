# LangOrch — `make run` serves the product, `make test` runs every suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export LANGORCH_HOME ?= $(CURDIR)/var

.PHONY: run test lint typecheck pytest bench install clean

$(STAMP): backend/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e 'backend[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	cd backend && ../$(BIN)/ruff check langorch ../tests ../bench
	cd backend && ../$(BIN)/mypy langorch

pytest: $(STAMP)
	$(BIN)/pytest -q tests

test: lint pytest

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

run: $(STAMP)
	mkdir -p var
	$(BIN)/langorch serve --host 127.0.0.1 --port 8000 --load-examples ckp_examples

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
