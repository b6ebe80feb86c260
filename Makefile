# Miz — every target does its own set-up on a fresh machine.
#   make demo   the server with the demo catalog on http://127.0.0.1:5000 (HOST=… PORT=… to move it)
#   make test   the whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app counter_server
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test system-deps venv clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,server]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

demo: $(STAMP)
	bash scripts/install-system-deps.sh runtime
	HOST=$(HOST) PORT=$(PORT) bash scripts/demo.sh

test: $(STAMP) system-deps
	$(PY) -m pytest $(PYTEST_ARGS)
	$(PY) -m pytest tests/kiosk_ui $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
