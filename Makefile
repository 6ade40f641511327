# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
FLASK := $(BIN)/flask --app screening

.PHONY: run dev test test-fast bench lint install clean-venv prepare fonts chromium caddy \
	translations catalogues screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The app's own words in the clients' other languages (Flask-Babel). The .po files are the
# source (committed); the .mo files are built from them (not committed): `make run` and
# `make test` build them. After changing a client-facing string, `make translations`
# extracts it and updates each .po file; translate it there, then commit.
CATALOGUES := screening/translations
catalogues: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(CATALOGUES)

translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output \
		--project=screening -k _ -k _l -k gettext -k ngettext:1,2 -o $(CATALOGUES)/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --width=100 -i $(CATALOGUES)/messages.pot -d $(CATALOGUES)
	$(MAKE) catalogues

# A generated SECRET_KEY, readable by its owner only. Never committed.
instance/config.py:
	mkdir -p instance
	umask 077 && $(PYTHON) -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@
	chmod 600 $@

prepare: $(VENV)/.installed instance/config.py fonts catalogues
	$(FLASK) init-db
	$(FLASK) users ensure-admin

run: prepare
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(BIN)/gunicorn -c python:screening.gunicorn_conf --preload --no-control-socket \
		--workers $(WORKERS) --bind $(HOST):$(PORT) \
		--access-logfile - \
		'screening:create_app()'

dev: prepare
	$(FLASK) run --debug --host $(HOST) --port $(PORT)

# Fonts for client names in any script on the PDFs: DejaVu (Latin, Cyrillic, Greek, Arabic,
# Hebrew) ships with Debian; these add CJK, Devanagari and emoji. WeasyPrint 70 subsets fonts
# with HarfBuzz (without it: a DeprecationWarning, an error under pytest, and fontTools' slower
# subsetting).
PDF_FONTS := fonts-droid-fallback fonts-lohit-deva fonts-noto-color-emoji libharfbuzz-subset0
fonts:
	@fc-list | grep -q "Droid Sans Fallback" && fc-list | grep -q "Lohit Devanagari" \
		&& fc-list | grep -q "Noto Color Emoji" && ldconfig -p | grep -q libharfbuzz-subset || { \
		echo "Installing fonts for the PDF summaries: $(PDF_FONTS)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_FONTS) >/dev/null) \
		|| echo "warning: could not install $(PDF_FONTS); PDFs may miss CJK, Devanagari or emoji glyphs"; }

# Debian's Chromium for the browser tests (Playwright's own download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's Caddy for the slow-client tests (tests/test_slow_clients.py run deploy/Caddyfile).
# The package enables a system-wide caddy service; on a machine running systemd it is
# stopped and disabled again, as the tests start their own.
caddy:
	@command -v caddy >/dev/null 2>&1 || { \
		echo "Installing Debian's caddy for the proxy tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null \
		&& if [ -d /run/systemd/system ]; then systemctl disable --now caddy.service; fi; }

test: lint chromium caddy fonts catalogues
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-test catalogues
	$(BIN)/python -m pytest -q -m "not browser and not load" $(PYTEST_ARGS)

# Retake the screenshots README.md and docs/ show (the browser tests that take them).
screenshots: chromium fonts catalogues $(VENV)/.installed-test
	SCREENING_UPDATE_DOCS=1 $(BIN)/python -m pytest -q tests/browser -k \
		"follow_up_question_appears or decides_on_the_most_severe or every_status_at_a_glance \
		or worklist_puts_todays_appointments_first"

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check screening tests bench
	$(BIN)/ruff format --check screening tests bench

clean-venv:
	rm -rf $(VENV)
