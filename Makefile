# accessbot: make run | make test | make bench
PYTHON ?= python3
VENV ?= .venv
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's output goes to $(VENV)/pip.log; a dot per package shows it is moving, the log's end on failure.
PIP_PROGRESS = 2>&1 | tee $(VENV)/pip.log | awk '/^(Collecting|Processing)/ {printf "."; fflush()} END {print " done"}' \
	|| { echo "pip failed; the end of $(VENV)/pip.log:"; tail -n 25 $(VENV)/pip.log; exit 1; }
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck unit bench console clean init

$(PY):
	@echo "creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@printf "updating pip "; $(PY) -m pip install --upgrade pip $(PIP_PROGRESS)

$(STAMP): pyproject.toml | $(PY)
	@printf "installing dependencies (first run takes about a minute) "; \
	  $(PY) -m pip install -e . $(PIP_PROGRESS)
	@touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	@printf "installing dependencies and test tools (first run takes about a minute) "; \
	  $(PY) -m pip install -e '.[test]' $(PIP_PROGRESS)
	@touch $(STAMP) $@

run: $(STAMP)
	$(VENV)/bin/accessbot run

console: $(STAMP)
	$(VENV)/bin/accessbot run console

init: $(STAMP)
	$(VENV)/bin/accessbot init

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
