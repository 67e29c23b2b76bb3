# Two commands: `make run` serves the toolkit with demo data; `make test` runs the whole suite.
# Both install what they need first (a virtualenv in .venv, and Debian packages when missing).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

# Pango for WeasyPrint; harfbuzz-subset keeps PDF font subsetting fast (without it, ~6x slower).
RUNTIME_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
# Reading PDFs back (pdftotext), decoding QR codes (zbarimg), a real browser for the page tests, a real IMAP server
# for the bounce tests (the tests start their own Dovecot on a loopback port).
TEST_PACKAGES := $(RUNTIME_PACKAGES) poppler-utils zbar-tools chromium redis-server dovecot-imapd

.PHONY: run test test-sqlite test-postgres install system-packages-run system-packages-test lint clean goldens translations

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

system-packages-run:
	@sh bin/ensure-debian-packages $(RUNTIME_PACKAGES)

system-packages-test:
	@sh bin/ensure-debian-packages $(TEST_PACKAGES)

run: system-packages-run install
	$(BIN)/flask --app coordinator db upgrade
	$(BIN)/flask --app coordinator seed-demo
	@echo
	@echo "Open http://$(HOST):$(PORT)/ and log in with one of the accounts above."
	@echo "Emails (invitations, bulletins) are written to instance/outbox/ unless MAIL_SERVER is set."
	@echo
	$(BIN)/flask --app coordinator run --host $(HOST) --port $(PORT)

test: system-packages-test install test-sqlite test-postgres

# Two test processes (pytest-xdist) share the 2 cores; each has its own databases, schemas and rate-limit keys.
TEST_WORKERS ?= 2

# The golden pictures of the starter leaflets (tests/leaflets/goldens/), rewritten on purpose after a change of
# design: look at the new pictures before committing them (tests/leaflets/test_goldens.py compares against them).
goldens: system-packages-run install
	$(BIN)/python -m tests.leaflets.goldens

# The fixed wording's catalogues (coordinator/translations): every _("...") of the templates and gettext/N_ of the
# code extracted (babel.cfg) into messages.pot, each language's messages.po brought up to date (a new phrase comes in
# untranslated, a removed one goes), and compiled to the messages.mo files that print. Commit the .pot, .po and
# .mo files together; a language whose words changed prints in English until an admin approves it again.
# --ignore-dirs: pybabel's own default also skips folders starting with "_", such as templates/_macros.
TRANSLATIONS := coordinator/translations
translations: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --output-file $(TRANSLATIONS)/messages.pot --no-location \
		--add-comments "Translators:" --project "Neighbourhood Watch Coordinator Toolkit" --version "" --keywords N_ \
		--ignore-dirs ".* __pycache__ instance" .
	$(BIN)/pybabel update --input-file $(TRANSLATIONS)/messages.pot --output-dir $(TRANSLATIONS) --no-fuzzy-matching \
		--ignore-obsolete
	$(BIN)/pybabel compile --directory $(TRANSLATIONS) --statistics

test-sqlite: install
	@echo "== Test suite on SQLite =="
	env -u TEST_DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --durations=10

# The PostgreSQL run is the "several processes" world: rate limits live in the machine's Redis too (database 15;
# the tests empty its rate-limit keys before each test). The job-queue tests start Redis servers of their own.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

test-postgres: install
	@echo "== Test suite on PostgreSQL ($(TEST_DATABASE_URL)) and Redis ($(TEST_REDIS_URL)) =="
	@if $(BIN)/python -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=5).ping()" "$(TEST_REDIS_URL)" 2>/dev/null; then \
		redis_url="$(TEST_REDIS_URL)"; \
	elif [ "$$CI" = "true" ]; then \
		echo "Redis at $(TEST_REDIS_URL) is unreachable: under CI that is a failure." >&2; exit 1; \
	else \
		echo "Redis at $(TEST_REDIS_URL) is unreachable: rate limits stay in memory in this run." >&2; redis_url=""; \
	fi; \
	if $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=5).close()" "$(TEST_DATABASE_URL)" 2>/dev/null; then \
		REDIS_URL="$$redis_url" $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --durations=10; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(TEST_DATABASE_URL) is unreachable: under CI that is a failure." >&2; exit 1; \
	else \
		echo "PostgreSQL at $(TEST_DATABASE_URL) is unreachable: the PostgreSQL run was NOT done." >&2; \
	fi

lint: install
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check coordinator tests bench config.py

clean:
	rm -rf $(VENV) .pytest_cache
