# The two commands: `make run` and `make test`. Everything they need is
# installed from nothing: a Python 3.13 virtualenv and the pinned packages.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The first python3.13 that really runs: on PATH, else one of pyenv's versions.
PYTHON313 := $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13; do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { command -v "$$p"; break; }; done)

.PHONY: run test lint format clean venv

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

run: $(VENV)/.runtime
	PORT=$(PORT) $(PY) manage.py serve

test: $(VENV)/.dev
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

format: $(VENV)/.dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var/test_db.sqlite3 .pytest_cache .ruff_cache
