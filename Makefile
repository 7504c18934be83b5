# Set-up on a fresh machine is part of every target: .venv is created and the package installed
# when absent or when pyproject.toml changed; otherwise these are no-ops.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
OUT ?= figures

.PHONY: figures test lint bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

figures: $(STAMP)
	$(PY) -m hhanalysis reproduce --out $(OUT)

test: $(DEV_STAMP)
	$(PY) -m pytest -q

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check hhanalysis tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_codegen.py

docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache .ruff_cache
