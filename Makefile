# Two commands for a newcomer: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
FLOWER_PORT ?= 5555
DEMO_CONVERSATIONS ?= 3000
DEMO_LANGUAGE ?= zh
DEMO_NIGHTS ?= 7
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo run test test-fast vendor bench-ingest bench-dashboard bench-suggest loadtest clean-demo

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	if [ -f clients/python/pyproject.toml ]; then $(VENV)/bin/pip install --quiet -e clients/python; fi
	touch $@

install: $(VENV)/.installed

# Development targets run with DEBUG on unless the environment says otherwise (settings default to off).
demo run test test-fast bench-ingest bench-dashboard bench-suggest clean-demo: export DEBUG ?= true

## demo: install, migrate, seed a bank contact centre and its users, train + promote models, assess a week, start web, worker, beat, Flower
demo: install
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py setup_schedules
	$(PY) manage.py seed_demo --conversations $(DEMO_CONVERSATIONS) --language $(DEMO_LANGUAGE) --users --scorecard
	$(PY) manage.py demo_credentials
	$(PY) manage.py bootstrap_models --backend linear
	$(PY) manage.py rebuild_reply_index
	$(PY) manage.py demo_nights --nights $(DEMO_NIGHTS)
	@$(MAKE) --no-print-directory run

## run: web (runserver), one worker for both queues, beat and Flower; Ctrl-C stops them all
run:
	@mkdir -p var/log
	@source var/demo-credentials.env; trap 'kill 0' EXIT; \
	$(PY) -m celery -A csplatform worker -Q default,gpu -c 2 --loglevel INFO > var/log/worker.log 2>&1 & \
	$(PY) -m celery -A csplatform beat --loglevel INFO > var/log/beat.log 2>&1 & \
	export FLOWER_BASIC_AUTH; $(PY) -m celery -A csplatform flower --port=$(FLOWER_PORT) --address=127.0.0.1 \
	    > var/log/flower.log 2>&1 & \
	echo "Console: http://127.0.0.1:$(PORT)/dashboard/  Admin: http://127.0.0.1:$(PORT)/admin/  API docs: http://127.0.0.1:$(PORT)/api/docs/"; \
	echo "Flower:  http://127.0.0.1:$(FLOWER_PORT)/ (login $$FLOWER_BASIC_AUTH)   logs: var/log/"; \
	FLOWER_URL="$${FLOWER_URL:-http://127.0.0.1:$(FLOWER_PORT)/}" $(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

## test: the whole suite (PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL point to them);
## tests that start real workers or a browser share the broker and run one at a time
test: install
	$(PY) -m pytest -q -n auto -m "not worker and not e2e"
	$(PY) -m pytest -q -m "worker or e2e"

## test-fast: everything but real workers, the browser and the slowest model tests, on every core
test-fast: install
	$(PY) -m pytest -q -n auto -m "not worker and not e2e and not slow"

## vendor: refresh the Chart.js file committed under static/vendor (needs npm)
vendor:
	npm ci --no-audit --no-fund
	mkdir -p static/vendor/chartjs && cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map node_modules/chart.js/LICENSE.md static/vendor/chartjs/

bench-ingest: install
	$(PY) bench/ingest_bench.py

bench-dashboard: install
	$(PY) bench/dashboard_bench.py --conversations 1000000

bench-suggest: install
	$(PY) bench/suggest_bench.py --replies 100000 --queries 2000

## loadtest: wrk against POST /api/v1/predict under gunicorn (apt-get install wrk)
loadtest: install
	bench/load.sh

clean-demo:
	rm -rf var/
