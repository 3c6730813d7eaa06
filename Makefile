# Two entry points that work on a fresh machine (see README.md):
#   make demo   set up .venv, run the article's FC experiment on a short budget, measure its
#               codes with the battery, draw the figures
#   make test   set up .venv and run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch. On a machine with a GPU, set TORCH_SPEC to the build you want
# (or install torch yourself first); neurocode itself only asks for torch>=2.2.
TORCH_SPEC ?= torch==2.13.0
DEMO_ITERATIONS ?= 2000

# Use the project's MNIST copy where it sits beside the checkout; elsewhere the loader
# searches NEUROCODE_DATA, ~/.cache/neurocode and /usr/share/datasets, then downloads.
ifneq ($(wildcard $(CURDIR)/../shared/datasets/mnist),)
export NEUROCODE_DATA ?= $(CURDIR)/../shared/datasets
endif

.PHONY: setup demo test bench full clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/neurocode run experiments/article_fc.yaml --set train.iterations=$(DEMO_ITERATIONS) --out results/demo
	$(VENV)/bin/neurocode measure results/demo/article_fc
	$(VENV)/bin/neurocode figures results/demo --out results/demo/figures --theory

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/bench_train.py

# The article's full budgets (hours on 2 cores): results/ then figures/.
full: setup
	$(VENV)/bin/neurocode run experiments/article_fc.yaml --out results
	$(VENV)/bin/neurocode run experiments/article_cnn.yaml --out results
	$(VENV)/bin/neurocode run experiments/article_ae.yaml --out results
	$(VENV)/bin/neurocode figures results --out figures

clean:
	rm -rf $(VENV) results
