# invoicer: `make demo` to see it work, `make test` to prove it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INVOICE ?= ../shared/examples/invoice.json

.PHONY: help install up down status demo test test-unit test-faults test-security test-k8s render bench schema clean

help:
	@echo "make demo   - start the local stack, upload the example invoice, download PDF and XLSX into out/"
	@echo "make test   - install what is needed and run the whole test suite (integration tests included)"
	@echo "make up     - start the local stack in the background (idempotent); make down stops it"
	@echo "make status - what of the local stack is running"
	@echo "make bench  - benchmarks: render ratio vs the legacy worker, scaling, end to end (bench/RESULTS.md)"
	@echo "make schema - regenerate src/invoicer/invoice/invoice.schema.json from the invoice input models"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $@

install: $(STAMP)

up: $(STAMP)
	$(PY) -m invoicer.devstack up

down:
	@if [ -x $(PY) ]; then $(PY) -m invoicer.devstack down; fi

status: $(STAMP)
	@$(PY) -m invoicer.devstack status

demo: $(STAMP)
	$(PY) -m invoicer.devstack demo --invoice $(INVOICE) --out out

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

bench: $(STAMP)
	$(PY) bench/run_all.py

# invoice.schema.json is generated from the pydantic input models; a unit test fails while it is stale.
schema: $(STAMP)
	$(PY) -c 'from invoicer.invoice.loader import write_json_schema; print("wrote", write_json_schema())'

render: $(STAMP)
	$(VENV)/bin/invoicer render $(INVOICE) --out out --formats pdf,xlsx

clean: down
	rm -rf var out
