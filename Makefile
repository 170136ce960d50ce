# The two commands a newcomer needs: `make run` and `make test`. Nothing else to install by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8000

.PHONY: demo-password install npm assets browser lock run worker test test-sqlite test-postgres test-faults lint lint-spec openapi bench bench-national screenshots clean deploy-secrets deploy-up deploy-down

# Python packages: exactly the versions (and hashes) of requirements.lock, then the project itself.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# npm packages: Swagger UI for /docs, Spectral for lint-spec, GOV.UK Frontend for the pages'
# assets (served by the app itself from /assets, never from another host) and axe-core for the
# browser tests, exactly as package-lock.json says (npm ci checks each package's integrity hash);
# no install scripts are run. Node.js is needed.
$(NPM_STAMP): package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

npm: $(NPM_STAMP)

install: $(STAMP) $(NPM_STAMP)

# Refresh the locks after changing dependencies in pyproject.toml or package.json (README).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --quiet --output-file requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--generate-hashes --quiet --constraint requirements.lock \
		--output-file deploy/requirements.runtime.lock
	npm install --package-lock-only --ignore-scripts --no-audit --no-fund

assets: $(NPM_STAMP)

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
	@echo "Partnership API on http://127.0.0.1:$(PORT) — pages at / (sign in as a demo user), docs at /docs"
	@echo "Delivery worker (webhooks, time-based events, vacancy alerts) running beside it"
	@$(FLASK) deliver & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(VENV)/bin/gunicorn --workers 3 --bind 127.0.0.1:$(PORT) wsgi:app

# The demo users' password again (RESET=1: a new one for every demo user; never in production).
demo-password: install
	$(FLASK) demo-password $(if $(RESET),--reset,)

# The delivery worker on its own (run one or more beside the web servers).
worker: install
	$(FLASK) deliver

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set, each on
# every core (pytest-xdist: TEST_WORKERS=1 runs it in one process; tests/conftest.py keeps a
# module's tests, and all the browser tests, on one worker).
TEST_WORKERS ?= auto
XDIST := $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)
test: install assets browser
	PARTNERSHIP_TEST_DB=sqlite $(PY) -m pytest $(XDIST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		PARTNERSHIP_TEST_DB="$$TEST_DATABASE_URL" $(PY) -m pytest $(XDIST); \
	fi

# Tests that stop and start PostgreSQL and Redis (run by .ci/run).
test-faults: install
	PARTNERSHIP_TEST_DB="$${TEST_DATABASE_URL:?set TEST_DATABASE_URL}" $(PY) -m pytest -m faults --run-faults

lint: install
	$(PY) -m ruff check .

# The OpenAPI document under Spectral's OpenAPI rules and the OWASP API Security Top 10 ruleset
# (.spectral.yaml): any error or warning fails; each rule turned off there says why.
lint-spec: npm
	node_modules/.bin/spectral lint --fail-severity=warn --display-only-failures openapi/openapi.json

openapi: install
	$(FLASK) openapi write --format=json openapi/openapi.json

# The pages' screenshots in docs/screenshots/ (README), remade by the browser tests.
screenshots: install assets browser
	UPDATE_SCREENSHOTS=1 PARTNERSHIP_TEST_DB=sqlite $(PY) -m pytest tests/browser

# The benchmark (README: Performance); BENCH_ARGS=--quick for a smoke run.
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

# National size (43 forces, 300 refuges, 2,000 users, 150,000 referrals a year, 300 webhook
# endpoints) against county size, side by side (README: Performance); BENCH_ARGS=--scale=0.1
# for a quicker run with a tenth of the referrals.
bench-national: install
	$(PY) -m bench.national $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules instance/*.db*

# The reference deployment (README: Reference deployment): TLS proxy, two app servers,
# PostgreSQL, Redis, two delivery workers, Prometheus and Grafana, on Docker with Compose.
# Its secrets are random files in deploy/secrets/ (never in git), made once.
DEPLOY_SECRETS := deploy/secrets
deploy-secrets:
	@mkdir -p $(DEPLOY_SECRETS) && chmod 700 $(DEPLOY_SECRETS)
	@for name in jwt_secret_key webhook_secret_key metrics_token postgres_password grafana_admin_password; do \
		if [ ! -s $(DEPLOY_SECRETS)/$$name ]; then \
			$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > $(DEPLOY_SECRETS)/$$name; \
			echo "made $(DEPLOY_SECRETS)/$$name"; \
		fi; \
	done
	@if [ ! -s $(DEPLOY_SECRETS)/database_url ]; then \
		echo "postgresql+psycopg://partnership:$$(cat $(DEPLOY_SECRETS)/postgres_password)@postgres:5432/partnership" > $(DEPLOY_SECRETS)/database_url; \
		echo "made $(DEPLOY_SECRETS)/database_url"; \
	fi
	@chmod 644 $(DEPLOY_SECRETS)/*   # read by the containers' own users; the folder is 700

deploy-up: deploy-secrets
	docker compose -f deploy/compose.yaml up --build --detach --wait proxy worker1 worker2 prometheus grafana
	@echo "Partnership API on https://localhost/ (Caddy's local certificate authority signs it)"
	@echo "Grafana on http://127.0.0.1:3000/ (admin; password in $(DEPLOY_SECRETS)/grafana_admin_password)"
	@echo "Prometheus on http://127.0.0.1:9090/"

deploy-down:
	docker compose -f deploy/compose.yaml down
