# tenki's one documented entry point. `make` (or `make help`) lists every target.
# Every target installs what it needs: a virtualenv with the locked dependencies (uv.lock),
# and Debian/Ubuntu packages through scripts/apt-ensure.sh when they are missing.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# uv is pinned and lives in a project-local tool venv; Python comes from the machine (no downloads).
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SYNCED := $(VENV)/.synced
export UV_PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Shared reference schemas (Kubernetes delivery tests) live beside the checkout, not in it.
export TENKI_SCHEMAS_DIR ?= $(abspath ../shared/schemas)

PROTO_SRC := proto/tenki/weather/v1/weather.proto
PYTEST := $(BIN)/pytest
# grpc_tools writes the messages' stubs (.py + .pyi) and the service module; mypy-protobuf types the latter.
PROTOC = $(PY) -m grpc_tools.protoc -I proto --plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc
PROTO_OUT = --python_out=$(1) --pyi_out=$(1) --grpc_python_out=$(1) --mypy_grpc_out=$(1)
COV_FAIL_UNDER := 90

include $(wildcard mk/*.mk)

.PHONY: help
help: ## Show this list of targets
	@echo "tenki -- make targets:"
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort -u \
	  | awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(UV):
	@scripts/apt-ensure.sh py:ensurepip=python3-venv
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): $(UV) uv.lock pyproject.toml proto/pyproject.toml services/weather/pyproject.toml services/frontend/pyproject.toml
	$(UV) sync --frozen --all-packages --all-groups
	@touch $@

.PHONY: install
install: $(SYNCED) ## Create .venv with the locked dependencies of every package and tool
	@echo "tenki is installed in $(VENV) (Python: $$($(PY) -V))"

.PHONY: lock
lock: $(UV) ## Re-resolve uv.lock after changing a pyproject.toml
	$(UV) lock

.PHONY: proto
proto: $(SYNCED) ## Generate the Python stubs from proto/ (committed; CI checks they are fresh)
	$(PROTOC) $(call PROTO_OUT,proto) $(PROTO_SRC)

.PHONY: proto-check
proto-check: $(SYNCED) ## Fail when the committed stubs differ from a fresh generation
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(PROTOC) $(call PROTO_OUT,$$tmp) $(PROTO_SRC); \
	for f in weather_pb2.py weather_pb2.pyi weather_pb2_grpc.py weather_pb2_grpc.pyi; do \
	  diff -u proto/tenki/weather/v1/$$f $$tmp/tenki/weather/v1/$$f \
	    || { echo "proto stubs are stale: run 'make proto' and commit the result"; exit 1; }; \
	done; echo "proto stubs are fresh"

.PHONY: lint
lint: $(SYNCED) proto-check ## Lint everything: pre-commit hooks (flake8, YAML/JSON/TOML, buf, hadolint, CircleCI schema)
	@scripts/apt-ensure.sh node=nodejs npm=npm git=git
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

.PHONY: test
test: ## Run every test suite that needs no cluster: unit, integration, web, deploy; then coverage
	@rm -f .coverage .coverage.*
	$(MAKE) test-unit test-integration test-web test-deploy
	$(MAKE) coverage

.PHONY: test-unit
test-unit: $(SYNCED) ## Unit tests (no network, no sleeps)
	$(PYTEST) tests/unit --cov --cov-append --cov-report=

.PHONY: test-integration
test-integration: $(SYNCED) redis nginx ## Integration tests: real servers on 127.0.0.1, the OWM stand-in behind them
	$(PYTEST) tests/integration --cov --cov-append --cov-report=

.PHONY: test-web
test-web: $(SYNCED) chromium ## Browser tests: selenium + headless Chromium against a local stack (or BASE_URL)
	$(PYTEST) tests/web --cov --cov-append --cov-report=

.PHONY: chromium
chromium: ## Install Debian's chromium and chromium-driver when missing
	@scripts/apt-ensure.sh chromium=chromium chromedriver=chromium-driver

.PHONY: redis
redis: ## Install Debian's redis-server when missing (the tests start their own on free 127.0.0.1 ports)
	@scripts/apt-ensure.sh redis-server=redis-server

.PHONY: nginx
nginx: ## Install Debian's nginx-light when missing (the frontend's proxy in make run and the drills)
	@scripts/apt-ensure.sh nginx=nginx-light

.PHONY: test-reliability
test-reliability: $(SYNCED) helm redis nginx ## Reliability and security drills: faults, outages, shutdown, fuzzing, secrets, checkov
	$(PYTEST) tests/reliability -p no:cacheprovider

.PHONY: coverage
coverage: $(SYNCED) ## Report branch coverage; fail under 90% for each service package
	$(BIN)/coverage combine --quiet 2>/dev/null || true
	$(BIN)/coverage report --include='*/tenki_weather/*' --fail-under=$(COV_FAIL_UNDER)
	$(BIN)/coverage report --include='*/tenki_frontend/*' --fail-under=$(COV_FAIL_UNDER)
	$(BIN)/coverage xml -q -o build/coverage.xml

.PHONY: run
run: $(SYNCED) nginx ## Run the whole stack locally (demo data without OWM_API_KEY) until Ctrl-C
	$(PY) scripts/stack.py

.PHONY: info
info: ## Print versions of Python, uv, the OS and key packages (to compare machines and runs)
	@echo "OS:      $$(. /etc/os-release 2>/dev/null && echo $$PRETTY_NAME || uname -s) ($$(uname -m))"
	@echo "python3: $$(python3 -V 2>&1) at $$(command -v python3)"
	@echo "uv:      $$( [ -x $(UV) ] && $(UV) --version || echo 'not installed (make install)')"
	@echo "venv:    $$( [ -x $(PY) ] && $(PY) -V || echo 'not installed (make install)')"
	@echo "node:    $$(node --version 2>/dev/null || echo none)   chromium: $$(chromium --version 2>/dev/null || echo none)"
	@echo "helm:    $$( (command -v helm >/dev/null && helm version --short) || ( [ -x $(TOOLS)/bin/helm ] && $(TOOLS)/bin/helm version --short) || echo none)"
	@[ -x $(UV) ] && [ -x $(PY) ] && $(UV) pip list --python $(PY) 2>/dev/null \
	  | grep -iE '^(tenki|grpcio |protobuf|pyowm|flask|gunicorn|selenium|locust|pytest |cachetools|pycountry|prometheus)' || true

.PHONY: clean
clean: ## Remove build output, caches and the virtualenvs
	rm -rf build dist .tox .nox .pytest_cache .hypothesis htmlcov .coverage .coverage.* $(VENV) $(TOOLS)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
