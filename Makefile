# Two commands: `make run` and `make test`. Everything they need is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(wildcard examples/*/pyproject.toml)
	$(BIN)/pip install -q -e '.[test,scale]'
	for d in examples/*/; do [ -f $$d/pyproject.toml ] && $(BIN)/pip install -q -e $$d; done; true
	touch $(STAMP)

install: $(STAMP) translations

translations: $(BIN)/python
	$(BIN)/pybabel compile -f -q -d core/translations 2>/dev/null || true

run: install
	@[ -f instance/workdesk.toml ] || $(BIN)/workdesk init --demo
	$(BIN)/workdesk run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
