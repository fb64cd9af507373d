# Proveo: `make run` serves the app with embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv trusts the system certificate store (where a registry proxy's CA is installed).
export UV_SYSTEM_CERTS ?= 1
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# The uv releases known to read the committed uv.lock (lock revision 5); the suite runs on 0.13.9.
UV_REQUIREMENT := uv>=0.13.9,<0.14
PY := .venv/bin/python
# Debian packages the test suite needs (servers it starts on loopback, tools it runs).
TEST_APT_PACKAGES := redis-server postgresql-15 postgresql-15-cron curl chromium shellcheck nginx-light gettext-base
PYTEST_WORKERS ?= 2
# Lighthouse (tests/e2e/test_lighthouse.py): npm packages pinned by tools/lighthouse/package-lock.json.
LIGHTHOUSE_DIR := tools/lighthouse
# loadfile: a module's tests share module-scoped servers and run in order on one worker.

.PHONY: help
help: ## List these targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
	  '{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
	   END { for (i = 1; i <= NR; i++) printf "  make %-" width "s  %s\n", name[i], text[i] }'

$(UV):
	python3 -m pip --version >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq python3-pip)
	python3 -m pip install --quiet --user --break-system-packages '$(UV_REQUIREMENT)'

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

.PHONY: deps
deps: .venv/.synced ## Create the Python environment from uv.lock

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests need, if missing (needs root)
	@missing=""; for pkg in $(TEST_APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(LIGHTHOUSE_DIR)/node_modules/.installed: $(LIGHTHOUSE_DIR)/package.json $(LIGHTHOUSE_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "installing: nodejs npm"; export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
	npm ci --prefix $(LIGHTHOUSE_DIR) --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

.PHONY: lighthouse-deps
lighthouse-deps: $(LIGHTHOUSE_DIR)/node_modules/.installed ## Install Lighthouse from its lock file (Node.js from apt if missing)

.PHONY: run
run: deps ## Serve Proveo on 127.0.0.1:8000 with embedded PostgreSQL and demo data
	PROVEO_SEED_DEMO=$${PROVEO_SEED_DEMO:-true} PROVEO_LOG_FORMAT=$${PROVEO_LOG_FORMAT:-console} \
	  $(UV) run --frozen --no-sync proveo serve

.PHONY: lint
lint: deps ## Check the code: ruff lint, ruff format --check, mypy --strict
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .
	$(UV) run --frozen --no-sync mypy

.PHONY: fmt
fmt: deps ## Format the code and apply ruff's automatic fixes
	$(UV) run --frozen --no-sync ruff format .
	$(UV) run --frozen --no-sync ruff check --fix .

.PHONY: test
test: deps system-deps lighthouse-deps lint ## Lint, then run the whole test suite (installs what it needs)
	$(UV) run --frozen --no-sync pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

.PHONY: bench
bench: deps ## Run the benchmarks under bench/ (they print figures and ratios; the search bench ~25 min)
	@$(MAKE) --no-print-directory system-deps TEST_APT_PACKAGES="$(TEST_APT_PACKAGES) wrk"
	@for script in bench/[!_]*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(UV) run --frozen --no-sync python $$script || exit 1; done
