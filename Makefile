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

.PHONY: demo test system-deps venv clean lock audit

# Every dependency comes from requirements.lock, pinned with hashes (`make lock` makes it
# from pyproject.toml); the project itself is then installed without looking for more.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing the dependencies in pyproject.toml: pin them again, with their hashes.
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra server --extra s3 \
	  --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  -o requirements.lock

# Known vulnerabilities in the locked versions: needs a vulnerability database (PyPI's
# advisory service), so it is a step to run where one is reachable, not a CI gate.
audit: $(STAMP)
	$(PY) -m pip install --quiet pip-audit
	$(VENV)/bin/pip-audit --require-hashes --disable-pip -r requirements.lock

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
