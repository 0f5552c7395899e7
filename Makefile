# The two commands of the README: `make run` and `make test`. Both install
# what they need on a fresh Debian machine (uv, Python packages; the test
# infrastructure scripts install PostgreSQL, Java/Maven + Kafka, pcscd).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: run test setup infra lint typecheck format asyncapi clean-local screenshots

setup:
	@bash deploy/local/system-deps.sh
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --all-packages --locked --quiet

run: setup
	@$(UV) run --no-sync eproc run

infra:
	@bash deploy/local/postgres.sh start >/dev/null
	@bash deploy/local/kafka.sh start >/dev/null
	@bash deploy/local/pcscd.sh start >/dev/null
	@bash deploy/local/chromium.sh >/dev/null

lint: setup
	@$(UV) run --no-sync ruff check .
	@$(UV) run --no-sync ruff format --check .

typecheck: setup
	@$(UV) run --no-sync mypy

asyncapi: setup
	@$(UV) run --no-sync eproc-asyncapi --write

test: setup lint typecheck infra
	@$(UV) run --no-sync python -m eproc_runtime.testing.suite $(if $(SUITES),--only $(SUITES)) -- -v $(PYTEST_ARGS)

# A PNG of every portal screen in nl and fr (the portal's browser tests, saving each page).
screenshots: setup infra
	@PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(UV) run --no-sync pytest -q services/portal/tests/test_browser.py

format: setup
	@$(UV) run --no-sync ruff format .
	@$(UV) run --no-sync ruff check --fix .

clean-local:
	-bash deploy/local/kafka.sh stop
	-bash deploy/local/postgres.sh stop
	-bash deploy/local/pcscd.sh stop
	rm -rf .local
