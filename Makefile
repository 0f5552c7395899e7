# The two commands of the README: `make run` and `make test`. Both install
# what they need on a fresh Debian machine (uv, Python packages; the test
# infrastructure scripts install PostgreSQL, Java/Maven + Kafka, pcscd).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: run run-stack deploy-check test audit setup infra lint typecheck format asyncapi clean-local screenshots bench

setup:
	@bash deploy/local/system-deps.sh
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --all-packages --locked --quiet

# Embedded mode: one process, SQLite under ./data, the in-process bus, an SMTP
# sink (/mail), the virtual eID card when PC/SC can run here (else local login only).
run: setup
	@bash deploy/local/pcscd.sh start >/dev/null 2>&1 || echo "PC/SC (pcscd + vpcd) could not start: eID login needs it; local login works without."
	@$(UV) run --no-sync eproc run

# The real stack without Docker: PostgreSQL, Kafka, each service its own process
# under a supervisor, one origin on http://127.0.0.1:8080.
run-stack: setup
	@$(UV) run --no-sync eproc stack up

# Render the Kubernetes manifests (the workspace's kubectl) and validate every one
# offline against the Kubernetes 1.30 and newest schemas and KEDA's CRD schema
# (eproc.deploycheck; also in `make test`), then check docker-compose.yml and the
# manifests for what the platform needs.
deploy-check: setup
	@$(UV) run --no-sync python -m eproc.deploycheck deploy/k8s/base
	@$(UV) run --no-sync pytest -q cli/tests/test_deploy.py

infra:
	@bash deploy/local/postgres.sh start >/dev/null
	@bash deploy/local/kafka.sh start >/dev/null
	@bash deploy/local/pcscd.sh start >/dev/null
	@bash deploy/local/chromium.sh >/dev/null
	@bash deploy/local/nginx.sh >/dev/null

# ruff, then the layering of CONTRIBUTING.md as import contracts (pyproject.toml,
# [tool.importlinter]): no service imports another, libraries import no service,
# entry points reach data only through use cases, use cases know no HTTP.
lint: setup
	@$(UV) run --no-sync ruff check .
	@$(UV) run --no-sync ruff format --check .
	@$(UV) run --no-sync lint-imports

typecheck: setup
	@$(UV) run --no-sync mypy

asyncapi: setup
	@$(UV) run --no-sync eproc-asyncapi --write

test: setup lint typecheck infra
	@$(UV) run --no-sync python -m eproc_runtime.testing.suite $(if $(SUITES),--only $(SUITES)) -- -v $(PYTEST_ARGS)

# Known vulnerabilities of uv.lock's pinned packages (pip-audit over PyPI's
# vulnerability data): fails on one with a fix, or when pip-audit writes no report;
# a package whose data is unreachable is only warned about (counted, not audited).
audit: setup
	@UV="$(UV)" $(UV) run --no-sync python .ci/audit_dependencies.py

# A PNG of every screen in nl, fr and de: the portal, SSO and demo applications' browser tests, saving each page.
screenshots: setup infra
	@PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(UV) run --no-sync pytest -q services/portal/tests/test_browser.py services/portal/tests/test_operator_console.py services/portal/tests/test_words_browser.py
	@PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(UV) run --no-sync pytest -q services/edge/tests/test_login_pages_browser.py
	@PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(UV) run --no-sync pytest -q cli/tests/test_demo_apps_browser.py
	@# 256 colours: a page's picture is well under half the bytes and looks the same (Pillow).
	@$(UV) run --no-sync python -c 'import pathlib; from PIL import Image; [Image.open(p).convert("RGB").quantize(256).save(p, optimize=True) for p in pathlib.Path("docs/screenshots").rglob("*.png")]'

# Benchmarks side by side with Keycloak (fetched into ~/.cache/eproc): writes
# docs/benchmarks.md. Not part of `make test`; about 40 minutes; BENCH_ARGS=--soak adds the 30-minute soak.
bench: setup infra
	@$(UV) run --no-sync python bench/run.py $(BENCH_ARGS)

format: setup
	@$(UV) run --no-sync ruff format .
	@$(UV) run --no-sync ruff check --fix .

clean-local:
	-bash deploy/local/kafka.sh stop
	-bash deploy/local/postgres.sh stop
	-bash deploy/local/pcscd.sh stop
	rm -rf .local
