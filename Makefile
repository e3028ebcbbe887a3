# govkz-monitor — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run init demo test lint bench clean

run: init  ## install, initialize the embedded store with the baseline, start the daemon
	$(BIN)/monitor run

init: $(STAMP)  ## install and initialize the store (idempotent)
	$(BIN)/monitor init

demo: $(STAMP)  ## the whole product, offline, in a few seconds (your store is not touched)
	$(BIN)/monitor demo

test: $(STAMP)  ## install the test extras and run the whole suite (on every core)
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/mypy monitor

bench: $(STAMP)  ## benchmarks (speed, storage, peers, workers); see bench/README.md
	$(BIN)/python -m bench
	$(BIN)/python -m bench.cluster_bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache
