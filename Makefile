# The two commands a newcomer needs: `make run` and `make test`. Nothing else to install by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp

.PHONY: install run worker test test-sqlite test-postgres test-faults lint openapi bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Partnership API on http://127.0.0.1:8000 — docs at http://127.0.0.1:8000/docs"
	@echo "Delivery worker (webhooks, time-based events, vacancy alerts) running beside it"
	@$(FLASK) deliver & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(VENV)/bin/gunicorn --workers 3 --bind 127.0.0.1:8000 wsgi:app

# The delivery worker on its own (run one or more beside the web servers).
worker: install
	$(FLASK) deliver

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install
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
	rm -rf $(VENV) instance/*.db*
