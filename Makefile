# Rode Draad: `make demo` sets up, ingests the shipped corpus and serves; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install test-deps serve ingest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

demo: install
	$(BIN)/rodedraad ingest
	$(BIN)/rodedraad serve

ingest: install
	$(BIN)/rodedraad ingest

serve: install
	$(BIN)/rodedraad serve

test-deps: $(TEST_STAMP)
	bash scripts/install-test-deps.sh $(BIN)

test: test-deps
	bash scripts/run-tests.sh $(BIN)

bench: install
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/chat.py
	$(BIN)/python benchmarks/pages.py

clean:
	rm -rf .rodedraad test-artifacts
