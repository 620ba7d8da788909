# invoicer: `make demo` to see it work, `make test` to prove it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INVOICE ?= examples/invoice.json

# `make lock` resolves against PyPI alone (no machine-local indexes or find-links from
# pip.conf), so the hashes are those of the files on PyPI and hold on any machine.
LOCK_ENV := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null \
	CUSTOM_COMPILE_COMMAND="make lock"
PIP_COMPILE := $(LOCK_ENV) $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

.PHONY: help install up down status demo lint lock test test-unit test-faults test-security test-k8s render bench bench-intake bench-records schema clean

help:
	@echo "make demo   - start the local stack, upload the example invoice, download PDF and XLSX into out/"
	@echo "make test   - install what is needed and run the whole test suite (integration tests included)"
	@echo "make up     - start the local stack in the background (idempotent); make down stops it"
	@echo "make status - what of the local stack is running"
	@echo "make bench  - benchmarks: render ratio vs the legacy worker, scaling, e-invoice cost, end to end (bench/RESULTS.md)"
	@echo "make bench-intake - reading received invoices: accuracy, calibration, s/page, memory (bench/RESULTS-intake.md)"
	@echo "make bench-records - one organisation with 10k/100k/1M invoices through the gateway (SIZES=; bench/RESULTS-records.md)"
	@echo "make lint   - ruff (lint and format), mypy and the import contracts; make test runs it first"
	@echo "make lock   - re-resolve requirements.lock and requirements-dev.lock (LOCK_ARGS=--upgrade for newer)"
	@echo "make schema - regenerate src/invoicer/invoice/invoice.schema.json from the invoice input models"
	@echo "make image  - build the image from the Dockerfile with buildah (no daemon; a local Debian base offline)"
	@echo "make test-image - build the image, run every service from it, pass README's curl flow through them"

# Exactly the locked versions, every file checked against its hash; then the
# package itself, with nothing more (its build backend is in the lock too).
# `pip check` fails when pyproject.toml asks for something the lock lacks: run `make lock`.
$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

# The browser tests (tests/web) drive Debian's chromium; Playwright never downloads a browser here.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

# Alert rules are checked with promtool, and one test runs a real Prometheus (tests/metrics):
# Debian's prometheus package brings both.
PROMTOOL := /usr/bin/promtool
$(PROMTOOL):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus

install: $(STAMP) $(CHROMIUM) $(PROMTOOL)

# The gateway's port of a new local stack (`make up PORT=8090` beside another program on 8080).
PORT ?= 8080

up: $(STAMP)
	$(PY) tools/devstack.py up --gateway-port $(PORT)

down:
	@if [ -x $(PY) ]; then $(PY) tools/devstack.py down; fi

status: $(STAMP)
	@$(PY) tools/devstack.py status

demo: $(STAMP)
	$(PY) tools/devstack.py demo --invoice $(INVOICE) --out out --gateway-port $(PORT)

# Every check runs even when an earlier one fails, so one run shows all findings;
# `ruff format --diff` shows what the formatter would change.
lint: $(STAMP)
	@status=0; \
	for check in "ruff check ." "ruff format --check --output-format concise ." mypy lint-imports; do \
		echo "== $$check"; $(VENV)/bin/$$check || status=1; \
	done; \
	exit $$status

# Runtime first; the dev lock is constrained to it, so both agree on every shared version.
lock: $(STAMP)
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra test --extra bench --extra lint --constraint requirements.lock \
		--output-file requirements-dev.lock pyproject.toml

# Two passes, both run even when the first fails: every test but the `serial` ones on
# TEST_WORKERS pytest-xdist workers that share one stack (most of the suite waits on
# the stack, not on the CPU), then the `serial` ones (tests/faults: they stop the shared
# servers and kill the stack's processes) alone, on a stack of their own.
TEST_WORKERS ?= 4
test: lint $(CHROMIUM) $(PROMTOOL)
	@status=0; \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not serial" || status=1; \
	$(PY) -m pytest -m serial || status=1; \
	exit $$status

# The tests that need no server. They run with PostgreSQL and RabbitMQ pointed at a
# closed port (127.0.0.1:1), so a test that reaches a server without being marked
# `integration` fails here instead of passing by luck: each run of it is the check.
OFFLINE := INVOICER_PG_URL=postgresql://postgres@127.0.0.1:1 DATABASE_URL=postgresql://postgres@127.0.0.1:1/invoicer \
	AMQP_URL=amqp://guest:guest@127.0.0.1:1/%2F MONGODB_URI=mongodb://127.0.0.1:1/invoicer

test-unit: $(STAMP) $(PROMTOOL)
	$(OFFLINE) $(PY) -m pytest -m "not integration"

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

# The image, built without a Docker daemon: buildah (`--isolation chroot`) from
# Debian's packages; mmdebstrap makes a Debian base when python:3.11-slim
# cannot be pulled (tools/image.sh; the base is cached under var/image/).
.PHONY: image test-image
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE ?= invoicer:$(VERSION)
BUILDAH := /usr/bin/buildah
MMDEBSTRAP := /usr/bin/mmdebstrap
$(BUILDAH):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends buildah
$(MMDEBSTRAP):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap

image: $(BUILDAH) $(MMDEBSTRAP)
	tools/image.sh $(IMAGE)

# The services run from the image against the local PostgreSQL and RabbitMQ
# (their own database and AMQP prefix) and a MongoDB wire server of their own;
# everything the test started is stopped and removed, whatever happens.
test-image: image $(STAMP)
	$(PY) tools/test_image.py --image $(IMAGE)

bench: $(STAMP)
	$(PY) bench/run_all.py

# Reading received invoices: accuracy, speed, memory on a folder of received documents with
# their true fields (INTAKE_DOCS; by default the team's intake examples beside the repository,
# which hold research-only receipts and so are never copied into it: bench/bench_intake.py).
INTAKE_DOCS ?=
bench-intake: $(STAMP)
	$(PY) bench/bench_intake.py $(INTAKE_DOCS)

# Records at scale: one organisation with SIZES invoices (seeded by COPY), timed through the gateway.
SIZES ?= 10000,100000,1000000
bench-records: $(STAMP)
	$(PY) bench/bench_records.py --sizes $(SIZES)

# invoice.schema.json is generated from the pydantic input models; a unit test fails while it is stale.
schema: $(STAMP)
	$(PY) -c 'from invoicer.invoice.loader import write_json_schema; print("wrote", write_json_schema())'

render: $(STAMP)
	$(VENV)/bin/invoicer render $(INVOICE) --out out --formats pdf,xlsx

clean: down
	rm -rf var out
