# make run   - the portal on embedded defaults (SQLite, Celery on filesystem://), demo data, worker and beat
# make test  - the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in emails and the URLs seed_demo prints follow the port the server listens on.
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
export PORT PUBLIC_BASE_URL

.PHONY: run test venv install migrate lint clean fuzz soak bench scaleout

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

venv: $(VENV)/.installed-runtime

install: $(VENV)/.installed-dev

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: venv
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Portal:       http://127.0.0.1:$(PORT)/"
	@echo "  Back office:  http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs:     http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Health:       http://127.0.0.1:$(PORT)/healthz"
	@echo "  Ctrl-C stops the web server, the Celery worker and beat."
	@echo ""
# exec: honcho is make's own child, so a SIGTERM to make (which make passes on to its
# children) reaches honcho, which stops web, worker and beat. GNU make does not pass on a
# SIGINT sent to make alone; Ctrl-C reaches honcho as a member of the terminal's process group.
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho -f Procfile.dev start

test: install
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

# make fuzz - schemathesis with thousands of cases (make test runs the same suite with a few per operation)
FUZZ_MAX_EXAMPLES ?= 100
FUZZ_STATEFUL_EXAMPLES ?= 300
FUZZ_STATEFUL_STEPS ?= 20
fuzz: install
	@mkdir -p var
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_STATEFUL_EXAMPLES=$(FUZZ_STATEFUL_EXAMPLES) \
	FUZZ_STATEFUL_STEPS=$(FUZZ_STATEFUL_STEPS) DJANGO_SETTINGS_MODULE=config.settings.test \
	$(BIN)/python -m pytest tests/fuzz $(PYTEST_ARGS)

# make soak - 10 minutes of mixed API traffic against gunicorn, a Celery worker and beat on the
# local PostgreSQL (database portal_soak, recreated) and Redis (db 7); fails on any error, memory or
# connection growth, or an undelivered event. SOAK_MINUTES / SOAK_RATE / SOAK_DATABASE_URL /
# SOAK_REDIS_URL change it; make test runs it for about 30 seconds when DATABASE_URL/REDIS_URL are set.
SOAK_MINUTES ?= 10
soak: install
	@mkdir -p var
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m tests.reliability.soak --minutes $(SOAK_MINUTES) --json var/soak.json

# make scaleout - two gunicorn processes behind a local proxy, two Celery workers and one beat on
# the local PostgreSQL (database portal_scaleout, recreated) and Redis (db 6), a mixed load, one web
# process and one worker killed mid-run; fails on a lost request or event (docs/deployment.md).
SCALEOUT_MINUTES ?= 3
SCALEOUT_RATE ?= 30
scaleout: install
	@mkdir -p var
	$(BIN)/python -m bench.scaleout --minutes $(SCALEOUT_MINUTES) --rate $(SCALEOUT_RATE) --json var/scaleout.json

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/mypy

clean:
	rm -rf $(VENV) var db.sqlite3

# make bench              - every benchmark of docs/benchmarks.md (< 15 min; own database `bench`, Redis db 9)
# make bench BENCH_QUICK=1 - the ~2-minute development run (BENCH_SCALE multiplies the data sizes)
# Then bench/scale.py: every admin, dashboard and API list page at demo size and at a million rows
# (own database `portal_scale`; BENCH_QUICK=1 runs it at 1% of the sizes, SCALE_ARGS adds options).
bench: install
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.scale $(if $(filter-out 0,$(BENCH_QUICK)),--scale 0.01 --no-docs,) $(SCALE_ARGS)
