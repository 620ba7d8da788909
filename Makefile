# invoicer: `make demo` to see it work, `make test` to prove it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INVOICE ?= ../shared/examples/invoice.json

.PHONY: help install up down status demo test test-unit test-faults test-security test-k8s render bench clean

help:
	@echo "make demo   - start the local stack, upload the example invoice, download PDF and XLSX into out/"
	@echo "make test   - install what is needed and run the whole test suite (integration tests included)"
	@echo "make up     - start the local stack in the background (idempotent); make down stops it"
	@echo "make status - what of the local stack is running"
	@echo "make bench  - benchmarks: render ratio vs the legacy worker, scaling, end to end (bench/RESULTS.md)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $@

install: $(STAMP)

up: $(STAMP)
	$(PY) tools/devstack.py up

down:
	@if [ -x $(PY) ]; then $(PY) tools/devstack.py down; fi

status: $(STAMP)
	@$(PY) tools/devstack.py status

demo: $(STAMP)
	$(PY) tools/devstack.py demo --invoice $(INVOICE) --out out

test: $(STAMP)
	$(PY) -m pytest

test-unit: $(STAMP)
	$(PY) -m pytest -m "not integration"

# Both are part of `make test` too.
test-faults: $(STAMP)
	$(PY) -m pytest tests/faults

test-security: $(STAMP)
	$(PY) -m pytest tests/security

test-k8s: $(STAMP)
	$(PY) -m pytest tests/k8s

# Generated Kubernetes files. `make charts`: each chart's values.schema.json and
# README.md table from its values.yaml; `make manifests`: manifests/ from the
# charts. Both run in .venv-k8s, the tools virtualenv tests/k8s uses too.
.PHONY: charts manifests
K8S_VENV := .venv-k8s
K8S_STAMP := $(K8S_VENV)/.requirements.sha256

$(K8S_STAMP): requirements-k8s-tools.txt
	@test -x $(K8S_VENV)/bin/python || $(PYTHON) -m venv $(K8S_VENV)
	@echo '*' > $(K8S_VENV)/.gitignore
	$(K8S_VENV)/bin/python -m pip install --quiet -r requirements-k8s-tools.txt
	$(K8S_VENV)/bin/python -c "import hashlib; print(hashlib.sha256(open('requirements-k8s-tools.txt', 'rb').read()).hexdigest())" > $@

charts: $(K8S_STAMP)
	$(K8S_VENV)/bin/python tools/helm_docs.py

manifests: $(K8S_STAMP)
	$(K8S_VENV)/bin/python tools/render_manifests.py

bench: $(STAMP)
	$(PY) bench/run_all.py

render: $(STAMP)
	$(VENV)/bin/invoicer render $(INVOICE) --out out --formats pdf,xlsx

clean: down
	rm -rf var out
