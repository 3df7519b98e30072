# hepilot: `make demo` and `make test` do all set-up on a fresh machine (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Allocator settings that make CPU training ~3x faster (shared/ML_NOTES.md); offline model hubs.
export THP_MEM_ALLOC_ENABLE := 1
export GLIBC_TUNABLES := glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TOKENIZERS_PARALLELISM := false

DEMO_GOAL := Generate 5000 top and 5000 QCD jets with pT between 550 and 650 GeV and train a BDT tagger on jet substructure; report AUC and background rejection at 30% signal efficiency

.PHONY: setup demo test test-fast eval bench clean

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[all]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/hepilot run "$(DEMO_GOAL)"

test: setup
	$(BIN)/pytest -q -p no:cacheprovider --timeout=900 --durations=15

test-fast: setup
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

eval: setup
	$(BIN)/hepilot eval

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info runs .pytest_cache
