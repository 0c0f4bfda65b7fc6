# Two commands: `make run` and `make test`. Everything they need is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench translations messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(wildcard examples/*/pyproject.toml)
	$(BIN)/pip install -q -e '.[test,scale]'
	for d in examples/*/; do if [ -f $$d/pyproject.toml ]; then $(BIN)/pip install -q -e $$d || exit 1; fi; done
	touch $(STAMP)

install: $(STAMP) translations

# Compiles core/translations/*/LC_MESSAGES/messages.po to .mo (git-ignored). No -f: a fuzzy entry is
# left out rather than shown, and a broken catalog (bad syntax, a renamed placeholder) fails the build.
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d core/translations

# After changing user-facing strings: re-extract them and merge them into every catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project=Workdesk --sort-by-file \
		-o core/translations/messages.pot .
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --ignore-obsolete

run: install
	@[ -f instance/workdesk.toml ] || $(BIN)/workdesk init --demo
	$(BIN)/workdesk run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
