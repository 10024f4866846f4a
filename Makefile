# Every target that needs Python creates or refreshes the virtualenv itself: on a fresh machine each of
# `make demo` and `make test` is one command.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MANIFEST := dbt/target/manifest.json
ENGINE_DIR := build/ask-engine
ENGINE := $(ENGINE_DIR)/.built
WASM_DIST := node_modules/@duckdb/duckdb-wasm/dist
DBT_SOURCES := $(shell find dbt/models dbt/macros dbt/seeds dbt/tests -type f 2>/dev/null) dbt/dbt_project.yml dbt/profiles.yml

# make demo keeps its generated data and its own Dagster instance in demo/, apart from the real-data defaults
# (data/ and dagster_home/), so nothing real and nothing made up ever share a folder or a run history. DEMO=1
# points the other targets at the demo's: make dev DEMO=1, make serve DEMO=1, make site DEMO=1, make docs DEMO=1.
DEMO_DIR := $(CURDIR)/demo
ifdef DEMO
export POLICE_DATA_DIR := $(DEMO_DIR)
export DAGSTER_HOME := $(DEMO_DIR)/dagster_home
else
export DAGSTER_HOME := $(CURDIR)/dagster_home
endif
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup install test test-reliability test-deploy lint demo demo-release dev docs bench clean browser postgres site serve relink load-postgres venv-exists

setup: $(STAMP) $(MANIFEST) $(ENGINE)

# tools/ is the development distribution (police_dev: the fake source, the demo, the browser helper).
$(STAMP): pyproject.toml tools/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# PYTHONWARNINGS: setuptools prints an information box for every editable build
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e ".[dev]" -e tools
	@touch $@

# A deployment (docs/operations.md): the product alone, editable so that it finds dbt/ beside it, with its pinned
# dependencies; none of the development tools (police_dev), test runners, browsers' drivers or linters. Then the
# dbt manifest, without which the package does not import.
install:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e .
	cd dbt && $(abspath $(BIN))/police-dbt parse --quiet --profiles-dir .
	@$(MAKE) --no-print-directory $(ENGINE)

# The Ask page's SQL engine: DuckDB-WASM from npm, pinned by package-lock.json, its browser module bundled with the
# Arrow library it imports into one file by esbuild, beside its worker and WebAssembly. Every site build ships a
# copy (site/ask/): nothing is loaded from a CDN. Needs Node.js and npm (Node 20 is what this is tested with).
$(ENGINE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 and npm (the Ask page's SQL engine comes from npm)"; exit 1; }
	npm ci --silent
	rm -rf $(ENGINE_DIR) && mkdir -p $(ENGINE_DIR)
	node_modules/.bin/esbuild $(WASM_DIST)/duckdb-browser.mjs --bundle --format=esm --minify --log-level=warning \
	  --outfile=$(ENGINE_DIR)/duckdb-browser.mjs
	cp $(WASM_DIST)/duckdb-browser-eh.worker.js $(WASM_DIST)/duckdb-eh.wasm $(WASM_DIST)/../package.json $(ENGINE_DIR)/
	@touch $@

# The package cannot be imported without the dbt manifest; re-parse whenever anything under dbt/ changes.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt && ../$(BIN)/police-dbt parse --quiet --profiles-dir .
	@touch $@

# Two workers (the CI machine has 2 cores), one module per worker at a time so module fixtures (the realism
# load, the fake sites) are built once. Modules go out in the order tests/conftest.py gives (longest first), not
# xdist's (most tests first). Tests never share files or ports.
# The dashboard tests need Chromium, the deployment tests PostgreSQL: installed here when this user may (root, or
# sudo without a password); otherwise they are skipped with the reason, except under CI (`CI` set), where
# .ci/run installs both first.
test: setup
	-@$(MAKE) --no-print-directory browser
	-@$(MAKE) --no-print-directory postgres
	$(BIN)/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder

# The bad day (docs/guarantees.md): the CLI killed at each stage, two runs at once, a reader throughout. Slow
# (real subprocess runs, about 15 s each), so apart from `make test`; .ci/run runs both.
test-reliability: setup
	$(BIN)/python -m pytest -m reliability tests/reliability

# The team deployment end to end (docs/operations.md): the real dagster-daemon on PostgreSQL through releases, a
# restart and a run killed outright; a backup restored on a new cluster; a fresh `make install`. Minutes of real
# services, so apart from `make test`; .ci/run runs it.
test-deploy: setup
	-@$(MAKE) --no-print-directory postgres
	$(BIN)/python -m pytest -m deployment -n 2 --dist loadscope tests/deploy

# sqlfluff's dbt templater compiles the project with the settings police-dbt gives dbt; point it at a scratch
# warehouse so it never opens the live one.
lint: setup
	$(BIN)/ruff check police_assets tools tests bench
	$(BIN)/ruff format --check police_assets tools tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	cd dbt && POLICE_WAREHOUSE=$$(mktemp -d)/lint.duckdb ../$(BIN)/python -m police_dev.dbt_env ../$(BIN)/sqlfluff lint models

# Debian's Chromium for the dashboard tests (tests/site/test_site.py); Playwright drives it, nothing is downloaded
# from Playwright's CDN. Needs root (CI) or sudo; never waits for a password.
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version 2>/dev/null

# Debian's PostgreSQL for the deployment tests (tests/deploy, tests/publish/test_postgres.py). Only its programs
# are used: each test module starts a throwaway cluster on a free port and deletes it (tools/police_dev/postgres.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null | head -1

# Re-render the dashboards from the published snapshot (the publish/site asset does this in every run).
site: setup
	$(BIN)/python -m police_assets.site

# After moving or copying the data folder (or only published/): point serving.duckdb's views at the files beside
# them (they hold absolute paths). POLICE_DATA_DIR names the folder, as for every other target.
relink: venv-exists
	$(BIN)/python -m police_assets.publish relink

# Load the published snapshot into the BI copy in PostgreSQL now (POLICE_MARTS_POSTGRES_URL), as every publish
# does: after a restore, or when the BI copy is first turned on.
load-postgres: venv-exists
	$(BIN)/python -m police_assets.publish load-postgres

# The operator's targets above work in a deployment's venv (make install) as in a developer's (make setup), and
# install neither.
venv-exists:
	@test -x $(BIN)/python || { echo "no $(VENV): run make install (a deployment) or make setup (development) first"; exit 1; }

# Serve the dashboards on this machine only, with HTTP Range requests (the Ask page needs them): a development
# tool (police_dev, installed by make setup); a deployment serves the site folder with its web server.
SITE_DIR = $${POLICE_DATA_DIR:-data}/published/site
serve: venv-exists
	@test -f $(SITE_DIR)/index.html || { echo "no dashboards in $(SITE_DIR): run make demo (or materialise publish/site) first"; exit 1; }
	$(BIN)/python -m police_dev.serve $(SITE_DIR) --port 8000

demo: setup
	POLICE_DATA_DIR=$(DEMO_DIR) DAGSTER_HOME=$(DEMO_DIR)/dagster_home $(BIN)/python -m police_dev.demo

# After `make demo`, the next release of the demo's fake data.police.uk (a new month, a revised one).
demo-release: setup
	POLICE_DATA_DIR=$(DEMO_DIR) DAGSTER_HOME=$(DEMO_DIR)/dagster_home $(BIN)/python -m police_dev.demo next

# The Dagster UI; on the demo's data (DEMO=1) it serves the demo's fake data.police.uk alongside
# (tools/police_dev/dev.py).
dev: setup
	$(BIN)/python -m police_dev.dev

# dbt's documentation site (models, columns, lineage), built from the published snapshot: never from the live
# warehouse (a copy of serving.duckdb gives the column types), and into its own folder, so the manifest Dagster
# loads (dbt/target/manifest.json) is left alone. Served on this machine only.
DOCS_DIR = dbt/target/docs-site
docs: setup
	@test -f $${POLICE_DATA_DIR:-data}/published/serving.duckdb || { echo "nothing published yet: run make demo (or materialise publish/marts_snapshot) first"; exit 1; }
	@tmp=$$(mktemp -d) && cp -L $${POLICE_DATA_DIR:-data}/published/serving.duckdb $$tmp/docs.duckdb && \
	  cd dbt && POLICE_WAREHOUSE=$$tmp/docs.duckdb ../$(BIN)/police-dbt docs generate --quiet --profiles-dir . --target-path target/docs-site && \
	  rm -rf $$tmp
	@echo "dbt docs in $(DOCS_DIR); serving at http://127.0.0.1:8080 (Ctrl-C to stop)"
	$(PYTHON) -m http.server 8080 --bind 127.0.0.1 --directory $(DOCS_DIR)

# All three benchmarks (docs/benchmarks.md): about 15 minutes on 2 cores; the site one needs `make browser`.
bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/dbt_incremental.py
	$(BIN)/python bench/site.py

# The demo's folder and dbt's build output. Never data/: a real data folder may be the only copy left of months
# data.police.uk no longer serves; remove it by hand if you mean to.
clean:
	rm -rf demo dbt/target dbt/logs build
