# Shoka: the two commands of the outside contract (CONTRACT.md) and what they stand on.
# `make run` and `make test` both reuse .venv and target/ between runs: a Rust release build of tantivy
# takes minutes on two cores, so nothing here ever cleans it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SHOKA_HOME ?= $(CURDIR)/var

.PHONY: run test test-rust test-python build venv bench demo-tier-s clean-var

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
