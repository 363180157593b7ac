# Two commands on a fresh machine with Python 3.11+:  `make run`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench

$(BIN)/coach: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/coach
	$(BIN)/coach serve

test: $(BIN)/coach
	$(BIN)/python -m pytest

bench: $(BIN)/coach
	for set in clapnq covid_faq mtrag_ibmcloud; do \
	  $(BIN)/python -m bench.retrieval --dataset ../shared/eval/$$set && \
	  $(BIN)/python -m bench.answers --dataset ../shared/eval/$$set || exit 1; \
	done
