# The two commands: `make run` and `make test`. Everything they need is
# installed from nothing: a Python 3.13 virtualenv and the pinned packages.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The suite's processes (pytest-xdist): each runs whole test files, with its
# own embedded MongoDB, SQL test database and live servers.
TEST_WORKERS ?= 2
# The first python3.13 that really runs: on PATH, else one of pyenv's versions.
PYTHON313 := $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13; do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { command -v "$$p"; break; }; done)

.PHONY: run test test-postgres lint format clean venv chromium haproxy bench loadtest chaos compare node

$(PY):
	@test -x "$(PYTHON313)" || { echo "Python 3.13 is required (python3.13 not found)"; exit 1; }
	"$(PYTHON313)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

venv: $(VENV)/.runtime

run: $(VENV)/.runtime haproxy
	PORT=$(PORT) $(PY) manage.py serve

# Debian packages the site and the tests need, installed through apt when their
# command is missing: as root directly, else through sudo when there is one.
# $(call apt_for,command,package)
define apt_for
	@command -v $(1) >/dev/null || { \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; \
	  elif command -v sudo >/dev/null; then sudo=sudo; \
	  else echo "$(1) is missing: install Debian's $(2) package as root" >&2; exit 1; fi; \
	  $$sudo apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(2); }
endef

# Debian's Chromium for the browser tests (Playwright drives it; it downloads
# no browser of its own).
chromium:
	$(call apt_for,chromium,chromium)

# Debian's HAProxy: the front `make run` serves behind (eventsite/haproxy.cfg).
haproxy:
	$(call apt_for,haproxy,haproxy)

# Test tools from npm (axe-core, for tests/live/test_axe.py), exactly as package-lock.json
# pins them; again whenever either file changes.
node_modules/.package-lock.json: package.json package-lock.json
	$(call apt_for,npm,npm)
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

node: node_modules/.package-lock.json

test: $(VENV)/.dev chromium haproxy node
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# The same suite on the production kind of SQL database: PostgreSQL (this
# machine runs one on loopback; pytest-django makes and drops test_<name>).
test-postgres: $(VENV)/.dev chromium haproxy node
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/eventsite} $(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

$(VENV)/.bench: requirements-bench.txt $(VENV)/.dev
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

# A benchmark, not a test: the whole story of a rush in one run, on the default
# stack, then on PostgreSQL + Redis (a database and a Redis db of its own, made and
# removed; reported as not run if either does not answer). 150 clients, 600 users,
# one 500-seat event: the engine's plain guarded write (a scratch embedded server),
# the site's single ledger write, and RSVPs over the API while 20 readers load the
# event and home pages (alone first, then during the rush); the ratios, ledger
# writes per RSVP, and, on the default stack, one RSVP and one home page with 0 vs
# 5,000 past events. Targets reported, never asserted; exits 1 if a ledger does not
# match what its users were told. About 4 minutes; results in var/bench/
# (results.md, results.json, bench.png). BENCH_STACKS=default skips PostgreSQL;
# BENCH_CLIENTS, BENCH_USERS, BENCH_CAPACITY, BENCH_READERS, BENCH_ALONE_S,
# BENCH_OTHER_EVENTS, BENCH_SCALING_SAMPLES, BENCH_POSTGRES_URL, BENCH_REDIS_URL
# and WEB_CONCURRENCY tune it. Opt-in extras, on a stack of their own: BENCH_LEVELS=1
# (one RSVP, join, cancel by 10 to 10,000 people listed; BENCH_LEVEL_SAMPLES,
# BENCH_PROFILE=0), BENCH_HISTORY=1 (costs by 1 to 10,000 past events, before and
# after the history fix).
bench: $(VENV)/.bench
	$(PY) -m loadtests.bench

# The seat strategies side by side (events/ledger/strategies.py): for each in
# turn, a fresh embedded MongoDB and gunicorn started with that STRATEGY, USERS
# (500) users released together on CAPACITY (50) seats over HTTP, the same race
# without HTTP, and one RSVP's cost at 1,000 attendees. WORKERS (3) as in
# `make loadtest`; COMPARE_STRATEGIES=naive,atomic picks some. Redis: the one on
# 127.0.0.1:6379, else a redis-server of its own. About 5 minutes; results in
# var/compare/ (results.md, results.json, results.png).
compare: $(VENV)/.bench
	$(PY) -m loadtests.compare

# Simultaneous clicks at scale: the whole stack, a fixture, locust headless.
# USERS (500), CAPACITY (50), WORKERS (3 gunicorn processes), LOCUST_PROCESSES (2),
# LOADTEST_WAVES, LOADTEST_WAITLIST=1, LOADTEST_MODE=guests (GUESTS), approval or
# lottery (LOTTERY_IN) tune it;
# the report and summary land in var/loadtest/.
# STRATEGY=naive (or another of events/ledger/strategies.py) serves the crowd with
# that seat strategy: the end check must then fail ("overbooked: N").
loadtest: $(VENV)/.dev
	$(PY) -m loadtests.run

# Faults while a crowd clicks: the stack as `make run` runs it (without its
# front: the load tools reach gunicorn directly), MongoDB and a
# gunicorn worker SIGKILLed mid-crowd, MongoDB held down under 300 clients, then
# the ledger checked. About a minute. CHAOS_USERS (500), CHAOS_CAPACITY (50),
# CHAOS_MONGO_KILLS (2), CHAOS_WORKER_KILLS (1), CHAOS_OUTAGE_S (30),
# CHAOS_OUTAGE_CLIENTS (300) tune it (loadtests/chaos/command.py has the rest); STRATEGY
# as for `make loadtest`; the
# summary lands in var/chaos/summary.md.
chaos: $(VENV)/.dev
	$(PY) -m loadtests.chaos

clean:
	rm -rf $(VENV) node_modules var/test_db_*.sqlite3* .pytest_cache .ruff_cache .hypothesis
