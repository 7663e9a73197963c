# Change Makers: one command to run it, one to test it. See README.md.
#
#   make run            venv + dependencies, migrate, demo data, then http://127.0.0.1:8000
#                       with a Celery worker (+ embedded beat). Ctrl-C stops both.
#   make run STRIPE=standin   the same, paying through Stripe Connect against the Stripe API
#                       stand-in (port STRIPE_PORT, 12111), in its own SQLite database
#   make test           the pytest suite, one process per core (PYTEST_ARGS="-k grants -x" to
#                       narrow it; TEST_WORKERS=0 for one process)
#   make lint           ruff check + ruff format --check + lint-imports (layers depend one way:
#                       the import-linter contracts in pyproject.toml)
#   make migrations-check   fails when models and migrations disagree
#   make security       bandit on the product code, pip-audit on every locked dependency
#   make bench-disburse pays GRANTS (10000) grants through WORKERS (1) x CONCURRENCY (3)
#                       Celery processes on PostgreSQL + Redis: grants/s, latency, queries/grant
#   make bench-web      seeds 10,000 creators, drives the key pages under gunicorn with wrk:
#                       req/s, p50/p95, ratio to a trivial view (DURATION, CONNECTIONS, WEB_WORKERS)
#   make test-faults    restarts Redis and PostgreSQL (private ones) and kills a worker with -9
#                       during disbursement batches; every grant must be paid exactly once; and
#                       stalls payments past the soft time limit under duplicate sweeps; and
#                       pays through Stripe (the stand-in) while it times out, answers 429/5xx
#                       and loses answers
#
# Variables: PORT (8000), HOST (127.0.0.1), PYTHON (an interpreter >= 3.12 to build .venv with),
# PYTEST_ARGS, TEST_WORKERS (auto), STRIPE (standin), STRIPE_PORT (12111). DATABASE_URL / REDIS_URL in the environment
# switch to PostgreSQL / Redis.
# The benchmark uses BENCH_DATABASE_URL (.../changemakers_bench, dropped and recreated) and
# BENCH_REDIS_URL (redis://127.0.0.1:6379/5, flushed) instead, never the app's own.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core; each has its own test database. TEST_WORKERS=0
# runs the suite in one process.
TEST_WORKERS ?= auto
UV_VERSION := 0.13.9

VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# Re-synced whenever the lock or the project file changes; otherwise `make run` skips it.
SYNCED := $(VENV)/.synced-uv-lock

# Never let uv fetch its own Python: we build the venv from one already on the machine.
export UV_PYTHON_DOWNLOADS := never
export PYTHONUNBUFFERED := 1

.PHONY: help venv sync pdf-libs run test lint format migrations-check deploy-check security bench-disburse bench-web test-faults clean

help:
	@sed -n '1,26p' $(MAKEFILE_LIST) | sed 's/^# \{0,1\}//'

# The first interpreter >= 3.12 that actually runs: $(PYTHON) if given, python3.13/3.12 on
# PATH (a pyenv shim without a selected version fails the probe and is skipped), then every
# pyenv version, then the usual install locations.
$(PY):
	@probe() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
	candidates=( $(PYTHON) python3.13 python3.12 python3 ); \
	if command -v pyenv >/dev/null 2>&1; then \
	  for v in $$(pyenv versions --bare 2>/dev/null | sort -rV); do \
	    candidates+=( "$$(pyenv prefix "$$v" 2>/dev/null)/bin/python3" ); \
	  done; \
	fi; \
	candidates+=( $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) ); \
	candidates+=( /usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12 ); \
	found=""; \
	for c in "$${candidates[@]}"; do \
	  if probe "$$c"; then found="$$c"; break; fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "No Python >= 3.12 found. Install one, or run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12" >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$found ($$("$$found" --version 2>&1))"; \
	"$$found" -m venv $(VENV)

$(SYNCED): uv.lock pyproject.toml | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	  echo "$(VENV) is older than Python 3.12: remove it (make clean) and run make again." >&2; exit 1; }
	@[ -x $(UV) ] && [ "$$($(UV) --version | cut -d' ' -f2)" = "$(UV_VERSION)" ] || \
	  $(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --python $(PY)
	@touch $@

venv sync: $(SYNCED)

# The PDF receipts are laid out by WeasyPrint, which needs Pango and a font from the system:
# Debian's packages, installed when missing (as root or through sudo, like .ci/run does);
# elsewhere a hint (README, "PDF receipts"). Only the PDF downloads need them.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

pdf-libs:
	@if command -v dpkg >/dev/null 2>&1; then \
	  dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { \
	    sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    echo "Installing the PDF receipts' system libraries: $(PDF_PACKAGES)"; \
	    $$sudo apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES); }; \
	elif ! { ldconfig -p 2>/dev/null || true; } | grep -q 'libpangoft2-1\.0'; then \
	  echo "Note: PDF receipts need Pango >= 1.44 (README, \"PDF receipts\")." >&2; \
	fi

# STRIPE=standin: the provider is `stripe`, pointed at the stand-in that Procfile.stripe starts
# (its keys are the stand-in's own test values); the demo keeps its own SQLite database and its
# own Celery queue, so the sandbox demo of plain `make run` stays as it was.
STRIPE ?=
STRIPE_PORT ?= 12111

run: $(SYNCED) | pdf-libs
	@export DJANGO_DEBUG="$${DJANGO_DEBUG:-1}" PATH="$(CURDIR)/$(VENV)/bin:$$PATH"; \
	export DJANGO_SITE_URL="$${DJANGO_SITE_URL:-http://$(HOST):$(PORT)}"; \
	case "$(STRIPE)" in \
	  "") ;; \
	  standin) \
	    export DJANGO_PAYOUT_PROVIDER=stripe STRIPE_PORT="$(STRIPE_PORT)" \
	      DJANGO_STRIPE_API_BASE="http://127.0.0.1:$(STRIPE_PORT)" \
	      DJANGO_STRIPE_SECRET_KEY=sk_test_standin DJANGO_STRIPE_WEBHOOK_SECRET=whsec_standin \
	      DJANGO_STRIPE_TIMEOUT="$${DJANGO_STRIPE_TIMEOUT:-10}" DJANGO_CELERY_QUEUE=stripe-demo \
	      DATABASE_URL="$${DATABASE_URL:-sqlite:///$(CURDIR)/var/changemakers-stripe.sqlite3}"; \
	    python manage.py migrate --noinput; \
	    echo "Change Makers on http://$(HOST):$(PORT)/, paying through the Stripe stand-in on" \
	      "http://127.0.0.1:$(STRIPE_PORT)/ (Ctrl-C stops the stand-in, the web server and the worker)"; \
	    DEV_ADDR="$(HOST):$(PORT)" exec honcho --no-colour -f Procfile.stripe start;; \
	  *) echo "STRIPE=$(STRIPE): the only choice is STRIPE=standin (README, Going live with Stripe)" >&2; \
	     exit 2;; \
	esac; \
	python manage.py migrate --noinput; \
	python manage.py seed_demo; \
	echo "Change Makers on http://$(HOST):$(PORT)/ (Ctrl-C stops the web server and the worker)"; \
	DEV_ADDR="$(HOST):$(PORT)" exec honcho --no-colour -f Procfile.dev start

test: $(SYNCED) | pdf-libs
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(SYNCED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(SYNCED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The test settings need no secret and honour DATABASE_URL like production does.
migrations-check: $(SYNCED)
	DJANGO_SETTINGS_MODULE=changemakers.settings.test \
	  $(PY) manage.py makemigrations --check --dry-run

# Django's deployment checklist with production-like settings; any warning fails.
deploy-check: $(SYNCED)
	@DJANGO_SETTINGS_MODULE=changemakers.settings.base DJANGO_DEBUG=false \
	  DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	  DJANGO_FIELD_ENCRYPTION_KEYS="$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	  DJANGO_ALLOWED_HOSTS=changemakers.example \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Bandit on the product code ([tool.bandit] in pyproject.toml), then pip-audit on every pin of
# uv.lock (tests/security/dependency_audit.py): any finding fails. AUDIT_ARGS passes options to
# the audit, e.g. AUDIT_ARGS="--unreachable warn" where no vulnerability service answers.
AUDIT_ARGS ?=
security: $(SYNCED)
	$(VENV)/bin/bandit -c pyproject.toml -r . -q
	$(PY) -m tests.security.dependency_audit $(AUDIT_ARGS)

# Benchmarks print figures; they assert nothing but exactly-once payment (tests/perf/).
# On 2 cores one worker with 2-3 pool processes was fastest (1x2 and 1x3 within noise of each
# other, ahead of 2x2 and 1x4); 3 lets two processes pay while one fans the batch out.
GRANTS ?= 10000
WORKERS ?= 1
CONCURRENCY ?= 3
POOL ?= prefork
bench-disburse: $(SYNCED)
	$(PY) -m tests.perf.bench_disburse --grants $(GRANTS) --workers $(WORKERS) \
	  --concurrency $(CONCURRENCY) --pool $(POOL)

# The key pages of a large program under load (tests/perf/bench_web.py); needs wrk.
DURATION ?= 10
CONNECTIONS ?= 8
WEB_WORKERS ?= 2
bench-web: $(SYNCED)
	@command -v wrk >/dev/null || { echo "Installing wrk (Debian package)"; \
	  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }; }
	$(PY) -m tests.perf.bench_web --duration $(DURATION) --connections $(CONNECTIONS) \
	  --workers $(WEB_WORKERS) $(BENCH_ARGS)

# Fault tests (tests/faults/run.py): private PostgreSQL and Redis servers, FAULT_GRANTS a batch.
FAULT_GRANTS ?= 1500
test-faults: $(SYNCED)
	$(PY) -m tests.faults.run --grants $(FAULT_GRANTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
