# dtscope — the two commands a new user needs are `make run` and `make test`.
# Both create .venv and install the project into it when needed (re-installing when pyproject.toml changes).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dtscope-installed
EXTRAS ?= dev,bench
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run test lint unit demo bench browser postgres clean help

help:
	@echo "make run    - install if needed, build the demo warehouse, run the pipelines, make demo accounts, serve dashboard + API"
	@echo "make test   - install if needed, then ruff, mypy, import-linter and the whole pytest suite"
	@echo "make bench  - run the benchmarks and write their markdown tables"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# uv resolves and installs ~10x faster than pip; fall back to pip if it cannot be had.
	@($(BIN)/python -m pip install -q uv && $(BIN)/uv pip install -q --python $(BIN)/python -e ".[$(EXTRAS)]") \
	  || $(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

install: $(STAMP)

# Debian's chromium + chromium-driver for the dashboard's browser tests (installed only when missing).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing Debian chromium and chromium-driver for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; \
	fi

# Debian's postgresql for the service store's tests, which start their own cluster (installed only when missing).
postgres:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian postgresql for the service store tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install browser postgres
	$(BIN)/pytest

test: lint unit

demo: install
	$(BIN)/dtscope demo

run: install demo
	@echo "dtscope: demo warehouse built (SYNTHETIC data + real published figures) in data/warehouse.duckdb"
	$(BIN)/dtscope run
	@# one account per role, random passwords printed once and kept in data/demo-accounts.txt (0600); never overwritten
	$(BIN)/dtscope demo-accounts
	$(BIN)/dtscope serve --host $(HOST) --port $(PORT) --workers 2

bench: install browser
	$(BIN)/python -m evaluation.bench.assessment
	$(BIN)/python -m evaluation.bench.forecast
	$(BIN)/python -m evaluation.bench.panels
	$(BIN)/python -m evaluation.bench.heldout
	$(BIN)/python -m dashboard.bench
	$(BIN)/python -m pipelines.bench
	$(BIN)/python -m pipelines.bench.ingest
	$(BIN)/python -m pipelines.bench.scale
	$(BIN)/python -m pipelines.bench.levels
	$(BIN)/python -m pipelines.bench.plausible
	$(BIN)/python -m service.bench

clean:
	rm -rf $(VENV) data/warehouse.duckdb* data/service.db* data/demo-accounts.txt data/demo/*.csv data/published_tables .mypy_cache .ruff_cache .pytest_cache
