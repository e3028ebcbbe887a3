# govkz-monitor — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
RUNTIME = $(VENV)/.installed-runtime
TESTING = $(VENV)/.installed-test
PIP     = $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run init demo test lint bench dist clean

run: init  ## install, initialize the embedded store with the baseline, start the daemon
	$(BIN)/monitor run

init: $(RUNTIME)  ## install and initialize the store (idempotent)
	$(BIN)/monitor init

demo: $(RUNTIME)  ## the whole product, offline, in a few seconds (your store is not touched)
	$(BIN)/monitor demo

test: $(TESTING)  ## install the test extras and run the whole suite (on every core)
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

lint: $(TESTING)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/mypy monitor

bench: $(TESTING)  ## benchmarks (speed, storage, peers, evidence, workers); see bench/README.md
	$(BIN)/python -m bench
	$(BIN)/python -m bench.cluster_bench

dist:  ## build the wheel into dist/; `pip install dist/govkz_monitor-*.whl` works anywhere
	$(PYTHON) -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml $(VENV)/bin/python
	@echo "installing govkz-monitor into $(VENV) (the first time takes a minute)"
	$(PIP) -e .
	touch $@

$(TESTING): pyproject.toml $(RUNTIME)
	@echo "installing the test and lint tools into $(VENV)"
	$(PIP) -e '.[test,dev]'
	touch $@

clean:
	rm -rf $(VENV) var build dist *.egg-info .pytest_cache
