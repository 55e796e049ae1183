# The two commands that matter: `make run` and `make test`. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= uv
PY := .venv/bin/python
KAFKA := 127.0.0.1:$(or $(KAFKA_PORT),9092)
TOPICS := bansos.registry.v1 bansos.objections.v1 bansos.eligibility.v1 bansos.payout.v1 bansos.deadletter.v1
KUSTOMIZE := .local/bin/kustomize
KUSTOMIZE_VERSION := v5.7.1
SERVICES := $(foreach f,$(wildcard services/*/src/bansos_*/__main__.py),$(word 2,$(subst /, ,$f)))

.PHONY: help setup run stop test lint format bench schemas unit integration

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(KUSTOMIZE) ## install Python dependencies (uv), the Kafka broker's jars and kustomize
	@command -v $(UV) >/dev/null || python3 -m pip install -q uv
	$(UV) sync --frozen
	deploy/local/kafka.sh install

$(KUSTOMIZE): # renders deploy/k8s in the tests; built from source through the Go module proxy
	@command -v go >/dev/null || { echo "kustomize needs Go (https://go.dev/dl) to be built" >&2; exit 1; }
	GOBIN=$(CURDIR)/.local/bin GOFLAGS=-mod=mod go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

SAMPLE := .local/sample/jombang-2025-09.csv

run: setup ## start Kafka and every service, take the sample regency through a payout period, then return
	deploy/local/kafka.sh start
	$(PY) deploy/local/topics.py --bootstrap $(KAFKA) --partitions 6 \
		--config message.timestamp.type=LogAppendTime --config retention.ms=-1 $(TOPICS)
	deploy/local/services.sh start
	@mkdir -p $(dir $(SAMPLE))
	@test -f $(SAMPLE) || $(PY) -m bansos_registry.sample $(SAMPLE) --households 3000 --seed 1
	.venv/bin/bansosctl registry import $(SAMPLE) --snapshot-id DTSEN-3517-2025-09 --as-of 2025-09-01
	$(PY) -m bansosctl.demo $(SAMPLE)
	@$(PY) -m bansosctl.local_summary

stop: ## stop the services, Kafka and PostgreSQL (if running)
	-deploy/local/services.sh stop
	-deploy/local/kafka.sh stop
	-deploy/local/postgres.sh stop

lint: ## ruff (lint and format check), mypy, contract schema check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen python -m bansos_contracts.schemas check

format: ## apply ruff's fixes and formatting
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

test: lint $(KUSTOMIZE) ## lint, then every test: unit tests in memory, integration tests on the real stack
	$(UV) run --frozen pytest

unit: ## only the tests that need no broker or database
	$(UV) run --frozen pytest -m "not integration"

integration: ## only the tests on the real Kafka broker and PostgreSQL
	$(UV) run --frozen pytest -m integration

bench: setup ## benchmarks on the real stack; prints medians and ratios
	$(UV) run --frozen python -m benchmarks

schemas: ## regenerate the committed JSON Schemas (refuses breaking changes) and AsyncAPI documents
	$(UV) run --frozen python -m bansos_contracts.schemas write
	@for s in $(SERVICES); do $(PY) -m bansos_$$s asyncapi > contracts/asyncapi/$$s.json; done
