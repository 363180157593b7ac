# Two commands on a fresh machine with Python 3.11+:  `make run`  and  `make test`.
# Both install the exact versions in uv.lock (uv itself comes from PyPI into the venv, pinned here).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION ?= 0.13.9
UV := $(BIN)/uv

.PHONY: run test bench lock i18n lrs

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# --inexact keeps pip and uv, which the lock does not list; --frozen installs the lock as it is, never re-resolves
$(BIN)/coach: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --frozen --inexact --extra test
	touch $@

run: $(BIN)/coach
	$(BIN)/coach serve

test: $(BIN)/coach lrs
	$(BIN)/python -m pytest

# the real LRSs the xAPI tests and bench.xapi run on loopback (tests/lrs/servers.py): Ralph in a venv of its own
# (it pins fastapi 0.114), Learning Locker's xapi-statements from npm at the lock's version
LRS_RALPH := .lrs/ralph/bin/uvicorn
LRS_NODE := tests/lrs/xapi-statements/node_modules/xapi-statements/package.json
lrs: $(LRS_RALPH) $(LRS_NODE)
$(LRS_RALPH): tests/lrs/ralph-requirements.txt
	$(PYTHON) -m venv .lrs/ralph
	.lrs/ralph/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	touch $@
$(LRS_NODE): tests/lrs/xapi-statements/package-lock.json
	cd tests/lrs/xapi-statements && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# after changing the dependencies in pyproject.toml: resolve again and commit uv.lock (CI refuses a stale lock)
lock: | $(UV)
	$(UV) lock

bench: $(BIN)/coach
	for set in clapnq covid_faq mtrag_ibmcloud; do \
	  $(BIN)/python -m bench.retrieval --dataset ../shared/eval/$$set && \
	  $(BIN)/python -m bench.answers --dataset ../shared/eval/$$set || exit 1; \
	done

# after changing what the coach says: extract the texts, merge them into each language's catalog (translate the new
# and the fuzzy entries in coach/locale/*/LC_MESSAGES/coach.po), then `make i18n` again to compile; tests refuse a gap
I18N := coach/locale
i18n: $(BIN)/coach
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k ngettext:1,2 --add-location=file --sort-by-file \
	  --project=learning-coach --no-wrap -o $(I18N)/coach.pot .
	$(BIN)/pybabel -q update -i $(I18N)/coach.pot -d $(I18N) -D coach --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d $(I18N) -D coach --statistics
