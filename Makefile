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

.PHONY: install test demo lint bench mutation mutation-sample clean

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

# Mutation testing of the pure core (issue 15): slow (about 1.5 h on 2 cores), never part
# of `make test`. MODULES="src/vwapcli/exits.py ..." limits it; see mutation/README.md.
MUTATION_STAMP := $(VENV)/.mutation-installed
$(MUTATION_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,providers,mutation]"
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	nice -n 10 $(PY) mutation/run.py $(if $(MODULES),--module $(MODULES))

# The independent check: N fresh random mutants (comparison flips, and/or, arithmetic swaps).
mutation-sample: $(MUTATION_STAMP)
	nice -n 10 $(PY) mutation/fresh_sample.py -n $(or $(N),60) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache build src/*.egg-info
