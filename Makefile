# accessbot: make run | make test | make bench
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck unit bench console clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -qq -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -qq -e '.[test]'
	touch $(STAMP) $@

run: $(STAMP)
	$(VENV)/bin/accessbot run

console: $(STAMP)
	$(VENV)/bin/accessbot run console

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check bot tests benchmarks examples
	$(VENV)/bin/ruff format --check bot tests benchmarks examples

typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

unit: $(TEST_STAMP)
	$(PY) -m pytest

test: lint typecheck unit

bench: $(TEST_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
