# vwapcli: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VWAPCLI := $(VENV)/bin/vwapcli
STAMP := $(VENV)/.installed
DEMO_STORE := data/demo
DEMO_SYMBOLS := SPY QQQ
DEMO_START := 2019-01-01
DEMO_END := 2024-12-31

.PHONY: install test demo lint bench clean

install: $(STAMP)

# Rebuilt only when the package metadata changes: quick and idempotent otherwise.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,providers]"
	touch $(STAMP)

test: install
	$(PY) -m pytest

demo: install
	bash scripts/demo.sh

lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	$(PY) bench/run_benchmarks.py

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache build src/*.egg-info
