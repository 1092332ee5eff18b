# The two commands of the README. Everything else here serves them.
#   make run   install Andon, set up a SQLite database with demo data, serve the UI
#   make test  install the test tools too, lint and type-check, run every test (SQLite and PostgreSQL)

PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 5000
BIN     = $(VENV)/bin
SUDO    = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-test system-test-deps translations messages

run: install
	$(BIN)/andon demo
	$(BIN)/andon serve --host $(HOST) --port $(PORT)

test: install-test system-test-deps
	$(BIN)/ruff check platform tests migrations bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# Compile the zh-CN and en message catalogues (.mo files are not committed).
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d platform/translations

# After changing user-facing strings: extract them and update both catalogues.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
	  --project Andon --copyright-holder Andon -o platform/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i platform/translations/messages.pot -d platform/translations

# Debian's Chromium and a Chinese font for the browser tests, and a running PostgreSQL.
system-test-deps:
	@scripts/test-services.sh
