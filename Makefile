# Two entry points that work on a fresh machine (see README.md):
#   make demo   the main job: set up .venv, run the comparison of local, sparse and dense
#               codes (experiments/code_types.yaml) on its default budget into demo/results,
#               then draw demo/figures and write demo/report (the claims ledger); the
#               committed figures/ are never touched
#   make test   set up .venv and run the test suite
#   make test-fast  the edit-test loop: the suite without the tests marked slow (about a minute)
#   make docs   build the documentation site into site/ (mkdocs, strict: a broken link fails)
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch. On a machine with a GPU, set TORCH_SPEC to the build you want
# (or install torch yourself first); neurocode itself only asks for torch>=2.2.
TORCH_SPEC ?= torch==2.13.0

# Use the project's MNIST copy where it sits beside the checkout; elsewhere the loader
# searches NEUROCODE_DATA, ~/.cache/neurocode and /usr/share/datasets, then downloads.
ifneq ($(wildcard $(CURDIR)/../shared/datasets/mnist),)
export NEUROCODE_DATA ?= $(CURDIR)/../shared/datasets
endif

.PHONY: setup demo test test-fast docs bench full clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

DEMO ?= demo

demo: setup
	$(VENV)/bin/neurocode run experiments/code_types.yaml --out $(DEMO)/results
	$(VENV)/bin/neurocode figures $(DEMO)/results --out $(DEMO)/figures
	$(VENV)/bin/neurocode report $(DEMO)/results --out $(DEMO)/report --figures $(DEMO)/figures

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $@

docs: $(VENV)/.docs-installed
	$(VENV)/bin/mkdocs build --strict

bench: setup
	$(PY) benchmarks/bench_train.py

# The comparison at the article's full budgets (hours on 2 cores): results-full/, then the
# figures/ (committed) and report/.
full: setup
	$(VENV)/bin/neurocode run experiments/code_types.yaml --set budget=full --out results-full
	$(VENV)/bin/neurocode figures results-full --out figures --svg
	$(VENV)/bin/neurocode report results-full --out report --figures figures

clean:
	rm -rf $(VENV) $(DEMO) results results-full report site
