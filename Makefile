# Set-up on a fresh machine is part of every target: .venv is created and the package installed
# when absent or when pyproject.toml changed; otherwise these are no-ops.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
OUT ?= figures
IMG := docs/img
IMG_BUILD := build/docs-img

.PHONY: figures docs-img docs-img-check test lint bench docs clean

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

# The documentation images come from the code: regenerate them all (and docs/img/figures.json,
# the manifest of the drawing code's fingerprint, each image's SHA-256 and the numbers it shows;
# tests/test_docs_images.py fails when they are stale).
# Regenerate the figures of `reproduce` in docs/img with their manifest (figures.json); the model
# library's figures (library_*.png) come from docs/library_figures.py and are kept.
docs-img: $(STAMP)
	rm -rf $(IMG_BUILD)
	$(PY) -m hhanalysis reproduce --out $(IMG_BUILD)
	rm -f $(filter-out $(IMG)/library_%.png,$(wildcard $(IMG)/*.png))
	cp $(IMG_BUILD)/*.png $(IMG_BUILD)/figures.json $(IMG)/

# Full check (slow): regenerate into build/ and compare every figure's numbers with docs/img.
docs-img-check: $(STAMP)
	rm -rf $(IMG_BUILD)
	$(PY) -m hhanalysis reproduce --out $(IMG_BUILD) > /dev/null
	$(PY) -c "import json, sys; from hhanalysis.figures import compare_numbers; \
	a, b = (json.load(open(f + '/figures.json')) for f in ('$(IMG)', '$(IMG_BUILD)')); \
	d = compare_numbers({k: v['numbers'] for k, v in a['figures'].items()}, \
	{k: v['numbers'] for k, v in b['figures'].items()}, rtol=1e-5); \
	d += [] if a['code'] == b['code'] else ['drawing code changed']; \
	print('\n'.join(d) or 'docs/img is current'); sys.exit(bool(d))"

# Two pytest workers, one test file each at a time (module fixtures stay in one process): the
# suite takes ~7 min on 2 cores instead of ~15 (single process: `$(PY) -m pytest -q -p no:xdist`).
test: $(DEV_STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check hhanalysis tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_codegen.py

docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(OUT) build site .pytest_cache .ruff_cache
