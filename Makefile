# Two commands on a fresh machine with Python 3.11+:  `make run`  and  `make test`.
# Both install the exact versions in uv.lock (uv itself comes from PyPI into the venv, pinned here).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION ?= 0.13.9
UV := $(BIN)/uv

.PHONY: run test bench lock

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# --inexact keeps pip and uv, which the lock does not list; --frozen installs the lock as it is, never re-resolves
$(BIN)/coach: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --frozen --inexact --extra test
	touch $@

run: $(BIN)/coach
	$(BIN)/coach serve

test: $(BIN)/coach
	$(BIN)/python -m pytest

# after changing the dependencies in pyproject.toml: resolve again and commit uv.lock (CI refuses a stale lock)
lock: | $(UV)
	$(UV) lock

bench: $(BIN)/coach
	for set in clapnq covid_faq mtrag_ibmcloud; do \
	  $(BIN)/python -m bench.retrieval --dataset ../shared/eval/$$set && \
	  $(BIN)/python -m bench.answers --dataset ../shared/eval/$$set || exit 1; \
	done
