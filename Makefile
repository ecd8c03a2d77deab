# The two commands: `make run` (embedded default: SQLite, in-process sessions, demo, simulator)
# and `make test` (lint, types, flow and catalog checks, the whole test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Installs come from the locks in requirements/ (exact versions, hash-checked): run.txt for the
# app, test.txt for the app and its test tools. `make lock` regenerates them after a change to
# pyproject.toml, keeping every other pin; `make upgrade` moves everything to the newest release
# (LOCK_ARGS="--upgrade-package NAME" for one). Either way, review the diff (README, Dependencies).
UV_VERSION ?= 0.13.9
PYPI       ?= https://pypi.org/simple
LOCK_ARGS  ?=

.PHONY: run test lint checks pytest bench i18n clean lock upgrade

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locks hold the build backend (setuptools) too, so hotline itself is built without isolation
# from hash-checked packages; `pip check` fails if pyproject.toml asks for more than the lock has.
$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

$(VENV)/.installed-test: requirements/test.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@ $(VENV)/.installed-run

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

# Resolved by uv from PyPI alone (no local index or uv.toml), for any platform on CPython 3.11+;
# test.txt is constrained by run.txt so tests run the very versions the app is deployed with.
LOCK = env -u UV_INDEX -u UV_INDEX_URL -u UV_EXTRA_INDEX_URL -u UV_FIND_LINKS \
	$(BIN)/uv pip compile --quiet --no-config --default-index $(PYPI) --universal \
	--python-version 3.11 --generate-hashes --custom-compile-command 'make lock' $(LOCK_ARGS) \
	pyproject.toml requirements/build.in

lock: | $(BIN)/uv
	$(LOCK) -o requirements/run.txt
	$(LOCK) --extra test -c requirements/run.txt -o requirements/test.txt

upgrade:
	$(MAKE) lock LOCK_ARGS="--upgrade $(LOCK_ARGS)"

run: $(VENV)/.installed-run
	HOTLINE_DEMO=1 $(BIN)/hotline serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test lint checks pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

checks: $(VENV)/.installed-test
	$(BIN)/hotline flows check
	$(BIN)/hotline i18n check

pytest: $(VENV)/.installed-test
	$(BIN)/pytest --durations=20  # the slowest tests, for whoever keeps the suite fast

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.engine_step

i18n: $(VENV)/.installed-test
	$(BIN)/hotline i18n update

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
