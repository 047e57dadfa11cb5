# One entry point for people and CI. `make run` starts the local stack; `make test` sets itself up on a
# fresh machine and runs the whole suite. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
PORT ?= 3000
PYTEST_ARGS ?=
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# `sam build` for python3.13 needs that interpreter on PATH: pyenv's when present.
PY313_PREFIX := $(shell pyenv prefix 3.13.0 2>/dev/null || pyenv prefix 3.13 2>/dev/null)
BUILD_PATH := $(if $(PY313_PREFIX),$(PY313_PREFIX)/bin:,)$(PATH)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt shared/requirements.txt functions/api_docs/requirements.txt \
    functions/stripe_webhook/requirements.txt layers/payout_crypto/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli
	touch $@

# checkov pins its own versions of many libraries: like aws-sam-cli, it lives in its own venv.
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov>=3.2,<4'
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with everything the app, tests and tools need

.PHONY: browser
browser: ## Install Debian's Chromium for the browser tests (when missing)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "Chromium is missing: sudo apt-get install chromium"; exit 1; fi; }

.PHONY: pdf-tools
pdf-tools: ## Install Debian's poppler-utils (pdftoppm, pdftotext) for the flyer tests (when missing)
	@command -v pdftoppm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q poppler-utils; \
	  else echo "poppler-utils is missing: sudo apt-get install poppler-utils"; exit 1; fi; }

.PHONY: run
run: venv $(SAM_VENV)/.installed ## Start the local stack on http://127.0.0.1:$(PORT) (moto + gateway + stream poller)
	PORT=$(PORT) $(PY) -m local

.PHONY: test
test: venv browser pdf-tools $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## Set up and run the whole suite (unit, integration, template, e2e, browser)
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: venv pdf-tools $(SAM_VENV)/.installed ## Unit and integration tests only
	$(PY) -m pytest -m "unit or integration" $(PYTEST_ARGS)

# eslint and its plugins, at the versions package.json pins (package-lock.json: `npm ci` installs exactly those).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: lint
lint: venv node_modules/.installed ## ruff, mypy, import-linter (pyproject.toml's layer contracts), vulture (dead code), eslint (pages' JS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	cd shared && ../$(VENV)/bin/lint-imports --no-cache ../pyproject.toml
	$(VENV)/bin/vulture
	npx --no-install eslint .

.PHONY: validate
validate: venv $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## cfn-lint, sam validate (--lint), checkov
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --region $(AWS_DEFAULT_REGION)
	$(SAM) validate --lint --region $(AWS_DEFAULT_REGION)
	$(CHECKOV) -f template.yaml --config-file .checkov.yaml

.PHONY: deploy-check
deploy-check: validate build pdf-tools ## Everything checkable without an AWS account: validate, sam build, template tests, IAM usage
	$(PY) -m pytest tests/template tests/integration $(PYTEST_ARGS)

.PHONY: build
build: $(SAM_VENV)/.installed ## sam build (python3.13, arm64)
	PATH="$(BUILD_PATH)" $(SAM) build

.PHONY: openapi
openapi: venv ## Regenerate docs/openapi.json from the code
	PYTHONPATH=shared $(PY) -m scripts.openapi --write

.PHONY: soak
soak: venv ## Long reliability run: >= 1,000 schemathesis requests, bigger races, plus the fault and replay suites
	SOAK=1 $(PY) -m pytest tests/e2e tests/integration/test_faults.py tests/integration/test_stream_replay.py $(PYTEST_ARGS)

.PHONY: bench
bench: venv ## Benchmarks; results in bench/RESULTS.md
	PYTHONPATH=shared $(PY) -m bench

.PHONY: clean
clean: ## Remove build output and local data (not the venvs)
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache test-artifacts node_modules
