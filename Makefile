# Two commands: `make run` and `make test`. Everything they need is installed into .venv from
# requirements.lock (exact versions and hashes), so a release upstream cannot break a fresh install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The lock is the whole environment: no dependency resolution, no build isolation (which would fetch
# the newest setuptools), every file checked against its hash.
PIP_LOCKED := $(BIN)/python -m pip install -q --no-deps --no-build-isolation
CATALOGS = $(shell find core plugins examples tests -type d -name translations -not -path '*/.venv/*' 2>/dev/null)

.PHONY: run test install lock bench translations messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python $(LOCK) pyproject.toml setup.py $(wildcard examples/*/pyproject.toml)
	# The build tools first: a package shipped only as source (http-ece) is built with the venv's
	# setuptools, and the one ensurepip brings is too old to build a wheel.
	awk '/^[a-z]/ {keep = ($$1 ~ /^(pip|setuptools|wheel)==/)} keep' $(LOCK) > $(VENV)/build-tools.txt
	$(PIP_LOCKED) --require-hashes -r $(VENV)/build-tools.txt
	$(PIP_LOCKED) --require-hashes -r $(LOCK)
	$(PIP_LOCKED) -e .
	rm -rf workdesk.egg-info  # the installed metadata is the truth; a copy here would shadow it on sys.path
	for d in examples/*/; do if [ -f $$d/pyproject.toml ]; then $(PIP_LOCKED) -e $$d || exit 1; fi; done
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP) translations

# Re-resolve every dependency of pyproject.toml (and the build tools) to the newest allowed
# versions, with hashes. Review the diff, run `make test`, commit requirements.lock.
lock: $(BIN)/python
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra test --extra scale \
		--generate-hashes --universal --python-version 3.11 --upgrade -o $(LOCK)

# Compiles every catalog (the core's, each plugin's, the examples' and test plugins') to .mo
# (git-ignored). No -f: a fuzzy entry is left out rather than shown, and a broken catalog (bad
# syntax, a renamed placeholder) fails the build.
translations: $(STAMP)
	for d in $(CATALOGS); do $(BIN)/pybabel compile --statistics -d $$d || exit 1; done

# After changing user-facing strings: re-extract each component's strings (the core with the admin
# panel; each plugin, example and test plugin from its own folder) and merge them into its catalogs.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --project=Workdesk --sort-by-file \
		-o core/translations/messages.pot core admin
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --ignore-obsolete
	for d in $(filter-out core/translations,$(CATALOGS)); do \
		$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --sort-by-file -o $$d/messages.pot $$(dirname $$d) \
		&& $(BIN)/pybabel update -i $$d/messages.pot -d $$d --ignore-obsolete || exit 1; done
	$(BIN)/python -m workdesk.i18n plurals $(CATALOGS)

run: install
	@[ -f instance/workdesk.toml ] || $(BIN)/workdesk init --demo
	$(BIN)/workdesk run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
