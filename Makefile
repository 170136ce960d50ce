# The two commands a newcomer needs: `make run` and `make test`. Nothing else to install by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
# npm writes node_modules/.package-lock.json on every install: newer than the lock = up to date.
NODE_STAMP := node_modules/.package-lock.json
CHROMIUM ?= /usr/bin/chromium

.PHONY: install assets browser run test test-sqlite test-postgres test-faults lint openapi bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The pages' assets (GOV.UK Frontend) and axe-core for the browser tests, from the npm registry
# (Node.js is needed); served by the app itself from /assets, never from another host.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

assets: $(NODE_STAMP)

# The browser tests drive Debian's own Chromium; installed here when missing (as root, or with
# sudo). Nothing is downloaded at run time.
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Chromium is missing: installing Debian's chromium"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		else sudo apt-get update && sudo apt-get install -y chromium; fi; \
	fi

run: install assets
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Partnership API on http://127.0.0.1:8000 — docs at http://127.0.0.1:8000/docs"
	$(VENV)/bin/gunicorn --workers 3 --bind 127.0.0.1:8000 wsgi:app

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install assets browser
	PARTNERSHIP_TEST_DB=sqlite $(PY) -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		PARTNERSHIP_TEST_DB="$$TEST_DATABASE_URL" $(PY) -m pytest; \
	fi

# Tests that stop and start PostgreSQL and Redis (run by .ci/run).
test-faults: install
	PARTNERSHIP_TEST_DB="$${TEST_DATABASE_URL:?set TEST_DATABASE_URL}" $(PY) -m pytest -m faults --run-faults

lint: install
	$(PY) -m ruff check .

openapi: install
	$(FLASK) openapi write --format=json openapi/openapi.json

# The benchmark (README: Performance); BENCH_ARGS=--quick for a smoke run.
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules instance/*.db*
