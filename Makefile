# Shoka: the two commands of the outside contract (CONTRACT.md) and what they stand on.
# `make run` and `make test` both reuse .venv and target/ between runs: a Rust release build of tantivy
# takes minutes on two cores, so nothing here ever cleans it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SHOKA_HOME ?= $(CURDIR)/var

.PHONY: run test test-rust test-python build venv bench demo-tier-s clean-var loadtest loadtest-deps

run: build
	$(BIN)/shoka db upgrade
	$(BIN)/shoka demo load --if-empty
	$(BIN)/shoka serve

test: build test-rust test-python

test-rust:
	cargo test --release --workspace --exclude shoka-bindings

test-python: build
	$(BIN)/python -m pytest

# The venv carries the runtime and test dependencies; the stamp re-runs pip only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	  print("\n".join(["maturin>=1.7,<2"] + p["dependencies"] + p["optional-dependencies"]["test"]))' \
	  > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet -r $(VENV)/requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Editable install: the release extension is built into service/shoka/ and the package is imported from the
# source tree, so the demo generator in data/ is found beside it. Cargo decides what needs rebuilding.
build: $(STAMP)
	$(BIN)/maturin develop --release

bench: build
	cargo bench -p shoka-engine
	$(BIN)/python -m pytest tests --benchmark-enable --benchmark-only

clean-var:
	rm -rf var

# `make loadtest TIER=S|L`: starts its own server on free 127.0.0.1 ports over its own SHOKA_HOME
# (var/loadtest-$(TIER); the demo library is loaded there if the database is empty: S ~2 min, L ~40 min), runs
# every scenario for a bounded time, stops the server and rewrites loadtests/RESULTS.md and loadtests/plots/.
# Reuse a loaded library with LOADTEST_HOME=DIR (a SHOKA_HOME) or LOADTEST_DATABASE_URL=URL; shorten every step
# with LOADTEST_SCALE=0.2, choose scenarios with LOADTEST_SCENARIOS='search=1,64@20 checkout' (loadtests/plan.py).
# LOADTEST_NO_BUILD=1 skips the release build when the extension is known to be current.
TIER ?= S
LOADTEST_HOME ?= $(CURDIR)/var/loadtest-$(TIER)
LOADTEST_STAMP := $(VENV)/.loadtest-installed

$(LOADTEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -c 'import tomllib; \
	  print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["loadtest"]))' \
	  > $(VENV)/loadtest-requirements.txt
	$(BIN)/pip install --quiet -r $(VENV)/loadtest-requirements.txt
	touch $(LOADTEST_STAMP)

loadtest-deps: $(LOADTEST_STAMP)

loadtest: $(if $(LOADTEST_NO_BUILD),venv,build) loadtest-deps
	TIER=$(TIER) LOADTEST_HOME=$(LOADTEST_HOME) $(BIN)/python -m loadtests run --tier $(TIER)
