# The two commands: `make run` (embedded default: SQLite, in-process sessions, demo, simulator)
# and `make test` (lint, types, flow and catalog checks, the whole test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint checks pytest bench i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	HOTLINE_DEMO=1 $(BIN)/hotline serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test lint checks pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

checks: $(VENV)/.installed-test
	$(BIN)/hotline flows check
	$(BIN)/hotline i18n check

pytest: $(VENV)/.installed-test
	$(BIN)/pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.engine_step

i18n: $(VENV)/.installed-test
	$(BIN)/hotline i18n update

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
