# cratedigger developer entry points. Every target prepares what it needs by itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AZURITE := node_modules/.bin/azurite
# Runs a command with local.settings.json (or the example) merged under the environment.
WITH_LOCAL_SETTINGS := $(PY) -m tests.support.localenv --
NAME ?=

.PHONY: help setup extension checkov services-up services-down migrate serve demo test lint bench bench-api bench-peers run-timer clean

help:
	@echo "make demo | test | serve | services-up | services-down | migrate | lint | bench | checkov | run-timer NAME=..."

setup: $(STAMP) $(AZURITE) extension

# The compiled record extractor (shared/dumps/_extract.pyx, see docs/deploy.md). Incremental:
# rebuilt only when the .pyx or setup.py changed. Without it the parser uses the Python path.
extension: $(STAMP)
	$(PY) setup.py -q build_ext --inplace

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

$(AZURITE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# checkov (Terraform checks in tests/infrastructure) lives in its own virtual environment: its many
# pinned dependencies clash with the app's. The stamp names the version, so a new pin reinstalls.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .local/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	@rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --disable-pip-version-check -q checkov==$(CHECKOV_VERSION)
	@touch $@

services-up: setup
	$(PY) -m tests.support.services up

services-down:
	@if [ -x $(PY) ]; then $(PY) -m tests.support.services down; else echo "nothing to stop"; fi

migrate: services-up
	$(WITH_LOCAL_SETTINGS) $(PY) -m shared.cli migrate

serve: migrate
	$(WITH_LOCAL_SETTINGS) $(PY) -m tests.support.funchost serve --port 7071

run-timer: services-up
	@test -n "$(NAME)" || { echo "usage: make run-timer NAME=<timer function name>"; exit 2; }
	$(WITH_LOCAL_SETTINGS) $(PY) -m tests.support.funchost run $(NAME)

demo: migrate
	$(WITH_LOCAL_SETTINGS) $(PY) -m tests.support.demo

test: setup checkov
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench-api: services-up
	$(WITH_LOCAL_SETTINGS) $(PY) -m tests.benchmarks api

bench: services-up
	$(WITH_LOCAL_SETTINGS) $(PY) -m tests.benchmarks

# The fastest public loader (PyPI discogskit) in its own venv, then the benchmarks (which measure
# it on the same synthetic files when it is installed).
PEERS_VENV := .local/peers-venv
bench-peers: services-up
	@test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --disable-pip-version-check -q discogskit==0.2.0
	$(WITH_LOCAL_SETTINGS) $(PY) -m tests.benchmarks dumps

clean: services-down
	rm -rf $(VENV) node_modules .local .pytest_cache .ruff_cache build shared/dumps/_extract.c shared/dumps/_extract.*.so
