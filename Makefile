# govkz-monitor — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
RUNTIME = $(VENV)/.installed-runtime
TESTING = $(VENV)/.installed-test
PIP     = $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run init demo test lint bench dist clean messages

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

# Benchmarks that print their own verdicts are kept as sections of bench/RESULTS.md.
RECORD  = $(BIN)/python -m bench.record
MILLION ?= 1000000

bench: $(TESTING)  ## benchmarks (speed, storage, peers, evidence, workers); see bench/README.md
	$(BIN)/python -m bench
	$(RECORD) "The cluster" -- $(BIN)/python -m bench.cluster_bench
	$(RECORD) "One write transaction a check" -- $(BIN)/python -m bench.write_lock
	$(RECORD) "Adding 100,000 URLs" -- $(BIN)/python -m bench.add_bulk
	$(RECORD) "Learning a first pass" -- $(BIN)/python -m bench.learn_pass
	$(RECORD) "The daemon at 100,000 sources" -- $(BIN)/python -m bench.hundred_k
	$(RECORD) "A million sources, simulated" -- $(BIN)/python -m bench.million --sources $(MILLION)
	$(RECORD) "Rendered sources beside plain ones" -- $(BIN)/python -m bench.render_cost

WEB_POT = monitor/locale/web.pot
messages: $(RUNTIME)  ## the web app's msgids into monitor/locale/web.pot, then into the ru and kk web.po (their translations kept)
	$(BIN)/pybabel -q extract -F monitor/locale/web-babel.cfg -k _ -k gettext -k ngettext:1,2 \
		--no-default-keywords --sort-by-file --add-location=file --width=100 \
		--project=govkz-monitor --version=0.1 --copyright-holder=govkz-monitor \
		-o $(WEB_POT) monitor/web
	for language in ru kk; do \
		$(BIN)/pybabel -q update -D web -i $(WEB_POT) -d monitor/locale -l $$language \
			--no-fuzzy-matching --ignore-obsolete --width=100 || exit 1; \
	done
	@echo "now translate the new msgids (empty msgstr) in monitor/locale/{ru,kk}/LC_MESSAGES/web.po"

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
