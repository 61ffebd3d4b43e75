# Two commands: `make run` (set up and serve the demo) and `make test` (set up and run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: run test setup test-setup store browser axe redis postgres nginx bench bench-10x plotly-bundle clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

test-setup: $(VENV)/.installed-test browser axe redis postgres nginx

# Build the demo store only when none is published yet.
store: $(VENV)/.installed
	@$(BIN)/equalities info >/dev/null 2>&1 || $(BIN)/equalities build-demo

run: store
	$(BIN)/equalities serve --host $(HOST) --port $(PORT)

# Debian's Chromium and its driver, for the browser tests (installed when missing).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v pdftotext >/dev/null || \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq chromium chromium-driver poppler-utils )

# Debian's Redis server, for the shared-cache test (installed when missing).
redis:
	@command -v redis-server >/dev/null && command -v redis-cli >/dev/null || \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq redis-server )

# Debian's PostgreSQL binaries, for the returns tests on a real server (installed when
# missing; the tests start their own server in a temporary folder, not the system service).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq postgresql )

# Debian's nginx, for the slow-client test of docs/nginx.conf (installed when missing; the
# test runs its own copy, so the system service is not needed).
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -qq nginx )

# axe-core (accessibility rules engine) from the npm registry, injected by the browser tests.
axe:
	@command -v npm >/dev/null || ( $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm )
	@test -f node_modules/axe-core/axe.min.js || npm install --no-save --no-audit --no-fund axe-core@4

# The suite runs on up to 4 cores (pytest-xdist, whole files per worker: their fixtures are
# set up once); the workers build the demo store once between them (tests/conftest.py).
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

test: test-setup
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

# Every benchmark on the demo store (about 10 minutes; prints tables, see bench/README.md).
bench: test-setup store
	$(BIN)/python bench/queries.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/browser.py
	$(BIN)/python bench/exports.py

# The same on a store with ten times the trusts, to show how the cost grows with the data.
BIG := data/bench-10x
bench-10x: test-setup store
	@test -L $(BIG)/current || $(BIN)/python bench/big_store.py --from data/store --into $(BIG)
	$(BIN)/python bench/queries.py --data-dir $(BIG)
	$(BIN)/python bench/load.py --data-dir $(BIG)
	$(BIN)/python bench/browser.py --data-dir $(BIG)

# Rebuild the vendored plotly.js (scatter, bar and heatmap only) for the version the
# installed Plotly expects, from the npm registry; see assets/vendor/README.md.
PLOTLY_OUT = build/plotly-bundle
plotly-bundle: $(VENV)/.installed
	$(eval V := $(shell $(BIN)/python -c "from plotly.offline import get_plotlyjs_version as v; print(v())"))
	rm -rf $(PLOTLY_OUT) && mkdir -p $(PLOTLY_OUT)
	cp assets/vendor/plotly-entry.js $(PLOTLY_OUT)/entry.js
	cd $(PLOTLY_OUT) && npm init -y >/dev/null && \
	  npm install --no-save --no-audit --no-fund plotly.js@$(V) esbuild@0.28
	cd $(PLOTLY_OUT) && node_modules/.bin/esbuild entry.js --bundle --minify --format=iife \
	  --global-name=Plotly --target=es2016 --define:global=window --define:define.amd=false \
	  --alias:stream=stream-browserify --loader:.css=empty --legal-comments=eof \
	  --banner:js="/* plotly.js (bar, heatmap, scatter - minified) v$(V). Copyright 2012-2026, Plotly, Inc. MIT licence. */" \
	  --outfile=plotly-charts.min.js
	rm -f assets/vendor/plotly-charts-*.min.js
	cp $(PLOTLY_OUT)/plotly-charts.min.js assets/vendor/plotly-charts-$(V).min.js

clean:
	rm -rf $(VENV) node_modules data/store $(BIG)
