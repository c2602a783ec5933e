# make run  — set up everything and serve the demo on 127.0.0.1:5000 (SQLite)
# make test — set up everything and run the whole suite (SQLite, then PostgreSQL)
# make bench — benchmarks (see bench/README.md)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MO     := recruit/translations/ru/LC_MESSAGES/messages.mo
PO     := recruit/translations/ru/LC_MESSAGES/messages.po

.PHONY: run test lint bench audit translations extract system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d recruit/translations -D messages --statistics

translations: $(MO)

run: $(STAMP) $(MO)
	$(BIN)/recruit instance init
	$(BIN)/recruit db upgrade
	$(BIN)/recruit demo load
	$(BIN)/recruit run --host 127.0.0.1 --port 5000

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r recruit -lll

test: system-deps $(STAMP) $(MO) lint
	$(BIN)/python -m pytest -q --db=sqlite
	$(BIN)/python -m pytest -q --db=postgresql -m "not e2e"

# make bench QUICK=1 — small sizes, a few minutes; see bench/README.md.
bench: $(STAMP) $(MO)
	RECRUIT_BENCH=1 bash scripts/system-deps.sh
	$(BIN)/python -m bench.run $(if $(QUICK),--quick)

audit: $(STAMP)
	$(BIN)/pip-audit --skip-editable --progress-spinner off
	$(BIN)/bandit -q -r recruit -lll

# Refresh the catalog from the sources (then translate the new entries in $(PO)).
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o recruit/translations/messages.pot --no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i recruit/translations/messages.pot -d recruit/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(MO)
