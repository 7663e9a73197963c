"""Settings read from the environment (twelve-factor).

Every variable is `DJANGO_`-prefixed except the conventional `DATABASE_URL` and `REDIS_URL`.
With nothing set the app runs on embedded defaults: DEBUG on, a SQLite file and a filesystem
Celery broker under `var/`, so `make run` needs no server. Outside DEBUG the secret key and
allowed hosts are required.
"""

from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="insecure-development-key-only-used-when-DEBUG-is-on"
    )
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("DJANGO_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    # Staff-written content in every language (a column per language, registered in each
    # app's translation.py); before the admin, whose forms it extends.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "django_htmx",
    # Request rates and latencies per view for /metrics (changemakers/backoffice/metrics.py).
    "django_prometheus",
    "axes",
    # Second factors (changemakers/core/twofactor): authenticator apps, recovery codes, passkeys.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    # The REST API (changemakers/api): Django REST framework, its OpenAPI 3 schema, and the
    # schema browser's assets served from static/ (the CSP allows no other origin).
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "changemakers.core",
    "creators",
    "programs",
    "donations",
    "changemakers.webhooks",
    "changemakers.backoffice",
    "changemakers.api",
]

MIDDLEWARE = [
    # First and (nearly) last: times the whole request, counts it per view.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # One id per request in every log line, and in the tasks the request enqueues.
    "changemakers.core.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # `request.user.is_verified()`: whether this session has passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    # Times in the signed-in person's own zone (kept in the session), the program's otherwise.
    "changemakers.core.timezones.TimeZoneMiddleware",
    # Before anything reads the body (views and CSRF's process_view come after every
    # middleware's __call__); after sessions, language and user, so its 413 page is ours.
    "changemakers.core.request_size.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A signed-in account that owes a second factor sees only the pages that take it.
    "changemakers.core.twofactor.middleware.SecondFactorMiddleware",
    "changemakers.core.request_metrics.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "changemakers.urls"
WSGI_APPLICATION = "changemakers.wsgi.application"
ASGI_APPLICATION = "changemakers.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "changemakers.core.context_processors.roles",
                "donations.context_processors.program",
                # The staff navigation's count badges, counted only when it shows.
                "changemakers.backoffice.queues.context",
            ],
        },
    }
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'changemakers.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# A connection left broken by a database restart is dropped and reopened on the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web process and the embedded worker read and write side by side.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out client is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "creators:home"
LOGOUT_REDIRECT_URL = "creators:home"

# Login rate limiting: five failures per username and address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("DJANGO_AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
# Logins and the public forms' rate limits read the client's address the same way: behind
# DJANGO_PROXY_COUNT proxies, from X-Forwarded-For counted from the right.
AXES_CLIENT_IP_CALLABLE = "changemakers.core.ratelimit.client_address"

# Two-factor sign-in (changemakers/core/twofactor). Staff must use a second factor whenever DEBUG
# is off; in development (and in the test settings) a setting decides. Creators and nonprofit
# contacts may turn one on; once on, every sign-in of theirs asks for it.
STAFF_2FA_REQUIRED = env.bool("DJANGO_STAFF_2FA_REQUIRED", default=not DEBUG)
# Wrong codes one account may try in TWO_FACTOR_RATE_WINDOW seconds, on top of django-otp's own
# growing delay per device after each failure.
TWO_FACTOR_RATE_LIMIT = env.int("DJANGO_TWO_FACTOR_RATE_LIMIT", default=5)
TWO_FACTOR_RATE_WINDOW = 15 * 60
OTP_TOTP_ISSUER = "Change Makers"
# Device rows are never shown with their secrets, not even to staff in the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys (WebAuthn) are bound to a domain, never an address: the site's host, with the
# development default 127.0.0.1 read as localhost (browsers allow passkeys on
# http://localhost only, every other origin needs HTTPS).
_site = urlsplit(SITE_URL)
_webauthn_host = "localhost" if _site.hostname in {"127.0.0.1", "::1"} else _site.hostname
_webauthn_port = f":{_site.port}" if _site.port else ""
OTP_WEBAUTHN_RP_ID = env.str("DJANGO_WEBAUTHN_RP_ID", default=_webauthn_host)
OTP_WEBAUTHN_RP_NAME = "Change Makers"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "DJANGO_WEBAUTHN_ORIGINS", default=[f"{_site.scheme}://{_webauthn_host}{_webauthn_port}"]
)
# A passkey is a second factor after the password, never a way round it (and round django-axes).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Internationalisation: the program is global. Arabic is written right to left (base.html sets
# dir from Django's bidi list). Times are shown in each signed-in person's own zone
# (changemakers/core/timezones.py), in the program's to everyone else; the program's calendar
# days (milestone due dates) are dates, the same everywhere.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("es", _("Spanish")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Staff write content in English first; a language without its own text shows the English.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
USE_I18N = True
TIME_ZONE = env.str("DJANGO_PROGRAM_TIME_ZONE", default="UTC")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
# Request bodies. The largest upload a form takes is a milestone attachment (5 MB,
# programs.forms.ATTACHMENT_MAX_BYTES); a photo is 2 MB. A request announcing more than
# MAX_REQUEST_BYTES is refused with 413 before its body is read
# (changemakers.core.request_size); the default leaves 1 MB for the rest of the form.
MAX_REQUEST_BYTES = env.int("DJANGO_MAX_REQUEST_BYTES", default=6 * 1024 * 1024)
# The fields of a form, files excepted: our largest text forms are a few tens of KB, so 1 MB
# refuses a padded body well before it is parsed into memory (Django's default is 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Uploaded files up to this size stay in memory; larger ones (attachments, big photos) are
# spooled to a temporary file, so one upload never holds more than 1 MB of a worker's memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: console in development; any SMTP server through DJANGO_EMAIL_URL in production.
# Django 6.1 configures mail through MAILERS; the URL is parsed by django-environ.
_email = env.email_url(
    "DJANGO_EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
_smtp_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER") or None,
    "password": _email.get("EMAIL_HOST_PASSWORD") or None,
    "use_tls": _email.get("EMAIL_USE_TLS", False),
    "use_ssl": _email.get("EMAIL_USE_SSL", False),
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": _smtp_options if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Change Makers <no-reply@changemakers.example>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Production values are the defaults; DEBUG relaxes only what HTTP on localhost needs.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/live$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script anywhere: htmx is served from static/ and configured with attributes.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Celery. REDIS_URL selects Redis; without it a filesystem broker under var/ runs the jobs
# with no server to install (the embedded default). See changemakers/celery.py.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # "visibility_timeout" is set below, from the time limit and the retry backoff caps.
        "socket_connect_timeout": 5,
        "socket_timeout": 10,
        "retry_on_timeout": True,
    }
    # The cache holds the public forms' rate-limit counters: on Redis they are shared by every
    # web process and machine, as a limit must be.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "changemakers",
        }
    }
    # Parts of pages cached until the data changes (core/page_cache.py).
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "changemakers-pages",
    }
else:
    # The embedded worker is another process: a per-process cache would miss its changes.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    # Kombu's filesystem transport expects its folders to exist; the web process sends to them too.
    (VAR_DIR / "celery" / "queue").mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Seconds a cached part of a page lives at most, changed data or not (core/page_cache.py).
PAGE_CACHE_TIMEOUT = env.int("DJANGO_PAGE_CACHE_TIMEOUT", default=600)
# Seconds a signed-in person's page is kept for them at most (core/whole_page.py): long enough
# for the pages they go back and forth between, short enough that few are kept at once.
PERSONAL_PAGE_TIMEOUT = env.int("DJANGO_PERSONAL_PAGE_TIMEOUT", default=300)
# The queue tasks go to and workers read by default: stacks sharing one Redis set their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("DJANGO_CELERY_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Work is acknowledged only once done, one message at a time, and given back if a worker dies:
# tasks are written to be safe to run twice, so redelivery is the safe side to err on.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task is interrupted (SoftTimeLimitExceeded) after the soft limit and killed after the hard
# one, in seconds. The fault tests (tests/faults/) shorten both to stall a payment past them.
CELERY_TASK_TIME_LIMIT = env.int("DJANGO_CELERY_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("DJANGO_CELERY_SOFT_TIME_LIMIT", default=240)
# Keep the database connection between tasks instead of reopening it for each one.
CELERY_DB_REUSE_MAX = 200
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Payouts: providers by dotted path (see donations/payouts), and the one the program pays with.
PAYOUT_PROVIDERS = env.list(
    "DJANGO_PAYOUT_PROVIDERS",
    default=[
        "donations.payouts.sandbox.SandboxProvider",
        "donations.payouts.stripe.StripeProvider",
        "donations.payouts.bank_transfer.BankTransferProvider",
    ],
)
PAYOUT_PROVIDER = env.str("DJANGO_PAYOUT_PROVIDER", default="sandbox")
# Bank transfers by hand (nonprofits no electronic rail reaches): the program's own account,
# the debtor of the ISO 20022 pain.001 files finance hands to its bank.
BANK_DEBTOR_NAME = env.str("DJANGO_BANK_DEBTOR_NAME", default="Change Makers Program")
# An IBAN, or (for a bank without IBANs) the account number; with DEBUG on, ISO 13616's
# published example account stands in so the demo's files can be opened.
BANK_DEBTOR_IBAN = env.str(
    "DJANGO_BANK_DEBTOR_IBAN", default="GB33BUKB20201555555555" if DEBUG else ""
)
BANK_DEBTOR_ACCOUNT = env.str("DJANGO_BANK_DEBTOR_ACCOUNT", default="")
BANK_DEBTOR_BIC = env.str("DJANGO_BANK_DEBTOR_BIC", default="BUKBGB22" if DEBUG else "")
# The keys bank details are encrypted with in the database (changemakers/core/encryption.py):
# comma-separated Fernet keys, the first encrypts and all decrypt. To rotate, put a new key
# first, run `manage.py encrypted_fields_rotate`, then drop the old one. Required when DEBUG is
# off (`check --deploy` fails without it); with DEBUG on a key derived from SECRET_KEY stands in.
FIELD_ENCRYPTION_KEYS = env.list("DJANGO_FIELD_ENCRYPTION_KEYS", default=[])
# What the sandbox does for payees without a sandbox-* payout reference: succeed, fail,
# timeout, flaky, lose-response, dark or stall. And its pause per request, in seconds.
PAYOUT_SANDBOX_MODE = env.str("DJANGO_PAYOUT_SANDBOX_MODE", default="succeed")
PAYOUT_SANDBOX_LATENCY = env.float("DJANGO_PAYOUT_SANDBOX_LATENCY", default=0.0)
# Stripe Connect (donations/payouts/stripe.py): the platform's secret key, the signing secret
# of its webhook endpoint, the API's address (a stand-in's in tests and `make run
# STRIPE=standin`) and the seconds one request may take before it counts as timed out (the
# payment is then asked about again, never sent under a new key).
STRIPE_SECRET_KEY = env.str("DJANGO_STRIPE_SECRET_KEY", default="")
# One signing secret per webhook endpoint, comma-separated: the platform's endpoint (its own
# events: transfer.reversed) and the Connect endpoint (connected accounts' events:
# account.updated, payout.failed), and an old secret while Stripe rolls one.
STRIPE_WEBHOOK_SECRETS = env.list("DJANGO_STRIPE_WEBHOOK_SECRET", default=[])
# The platform account's country: connected accounts elsewhere are paid across borders, under
# Stripe's recipient service agreement.
STRIPE_PLATFORM_COUNTRY = env.str("DJANGO_STRIPE_PLATFORM_COUNTRY", default="US")
STRIPE_API_BASE = env.str("DJANGO_STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT = env.float("DJANGO_STRIPE_TIMEOUT", default=30.0)
# How long the sandbox hangs before answering a payee in its "stall" mode (seconds).
PAYOUT_SANDBOX_STALL = env.float("DJANGO_PAYOUT_SANDBOX_STALL", default=30.0)
# Tries per payment before a transient error fails the grant, and the exponential backoff
# between them (seconds: base, cap; with full jitter).
PAYOUT_MAX_ATTEMPTS = env.int("DJANGO_PAYOUT_MAX_ATTEMPTS", default=6)
PAYOUT_RETRY_BACKOFF = env.int("DJANGO_PAYOUT_RETRY_BACKOFF", default=5)
PAYOUT_RETRY_BACKOFF_MAX = env.int("DJANGO_PAYOUT_RETRY_BACKOFF_MAX", default=120)
# Batches larger than this are paid this many grants per task message (fewer messages and
# less task overhead per grant); smaller ones get one task per grant.
PAYOUT_BATCH_CHUNK = env.int("DJANGO_PAYOUT_BATCH_CHUNK", default=25)
# A payment pending or processing this long without news is reconciled by the sweeper: well
# above the task time limit (300) plus the backoff cap plus time waiting in the queue, so it
# does not race a live retry (if it ever does, both send the same key: nothing is paid twice).
PAYOUT_STALE_AFTER = env.int("DJANGO_PAYOUT_STALE_AFTER", default=900)
# A payment given up on after timeouts has an unknown outcome (its amount stays committed): the
# sweeper asks the provider again, PAYOUT_STALE_AFTER after the give-up and then twice as long
# each time, until the provider confirms or this many seconds have passed since the give-up;
# then it stays unknown, flagged for staff to settle with the provider. A week by default.
PAYOUT_UNKNOWN_HORIZON = env.int("DJANGO_PAYOUT_UNKNOWN_HORIZON", default=7 * 24 * 3600)
# Redis hands an unacknowledged message to another worker once it has been out this long. A
# retry waiting out its countdown is such a message (held by the worker until it is due), and
# so is a task running up to its time limit: with a shorter timeout the same payment runs in
# two workers at once. So it is twice the longest countdown plus the time limit. The longest
# countdown is the payout backoff cap (full jitter only shortens it) or the 600 s cap Celery
# gives tasks that retry themselves with `retry_backoff` (the email tasks), whichever is
# longer. A killed worker's work is not waited for this long: the sweeper recovers it.
AUTORETRY_BACKOFF_MAX = 600  # Celery's default `retry_backoff_max`
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = 2 * (
        max(PAYOUT_RETRY_BACKOFF_MAX, AUTORETRY_BACKOFF_MAX) + CELERY_TASK_TIME_LIMIT
    )

# How often beat sends the sweeper (seconds). Every minute in production; the fault tests
# (tests/faults/) shorten it, with PAYOUT_STALE_AFTER, so that healing takes seconds.
PAYOUT_SWEEP_EVERY = env.float("DJANGO_PAYOUT_SWEEP_EVERY", default=60.0)

# Days a nonprofit's verification holds: past them it must be verified again before a grant
# to it is approved, scheduled or paid (the worker holds a payment due to an expired one).
VERIFICATION_VALID_DAYS = env.int("DJANGO_VERIFICATION_VALID_DAYS", default=365)

# Outbound webhooks (changemakers/webhooks). The tasks every event emitted by a service is handed
# to once its transaction commits (changemakers/core/events.py): the webhooks' fan-out.
EVENT_TASKS = ["changemakers.webhooks.tasks.fan_out_events"]
# Endpoints must be https:// and resolve to public addresses only; development may post to
# http:// and to this machine (a receiver on localhost).
WEBHOOK_ALLOW_HTTP = env.bool("DJANGO_WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOW_PRIVATE = env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
# Seconds to connect, and again to wait for each read of the answer.
WEBHOOK_TIMEOUT = env.float("DJANGO_WEBHOOK_TIMEOUT", default=10.0)
# The waits between a failed attempt and the next (Standard Webhooks' example schedule: 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, about a day in all); past the last, it is given up.
WEBHOOK_RETRY_SCHEDULE = env.list(
    "DJANGO_WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
# An endpoint whose every attempt has failed for this many seconds is switched off and the
# program managers are told.
WEBHOOK_DISABLE_AFTER = env.int("DJANGO_WEBHOOK_DISABLE_AFTER", default=24 * 3600)
# Retries due within this many seconds wait in the broker (a countdown well under the
# visibility timeout above); later ones, and any message lost, are sent by the sweeper.
WEBHOOK_COUNTDOWN_MAX = 300
# How often beat sends the webhooks' sweeper (seconds).
WEBHOOK_SWEEP_EVERY = env.float("DJANGO_WEBHOOK_SWEEP_EVERY", default=60.0)

from changemakers.beat import BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    **BEAT_SCHEDULE,
    "sweep-disbursements": {
        **BEAT_SCHEDULE["sweep-disbursements"],  # the task; how often is the setting above
        "schedule": PAYOUT_SWEEP_EVERY,
        "options": {"expires": PAYOUT_SWEEP_EVERY * 0.9},  # a late sweep gives way to the next
    },
    "sweep-webhooks": {
        **BEAT_SCHEDULE["sweep-webhooks"],
        "schedule": WEBHOOK_SWEEP_EVERY,
        "options": {"expires": WEBHOOK_SWEEP_EVERY * 0.9},
    },
}

# Logs: one JSON object a line in production (`DJANGO_LOG_FORMAT=json`, the default without
# DEBUG), plain text in development; each line carries the request id (core/requestid.py),
# which the tasks a request enqueues carry too.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "changemakers.core.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# /metrics (changemakers/backoffice/metrics.py): Prometheus scrapes it from an allowed network
# or with the token as `Authorization: Bearer ...`; anyone else gets a 404.
METRICS_TOKEN = env.str("DJANGO_METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list(
    "DJANGO_METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"]
)

# An error tracker, when a DSN is set (Sentry's SDK, or any service that speaks its protocol).
# Nothing personal leaves: no cookies, bodies, headers with credentials, user emails or IPs
# (core/error_tracking.py scrubs each event before it is sent).
SENTRY_DSN = env.str("DJANGO_SENTRY_DSN", default="")
if SENTRY_DSN:
    from changemakers.core.error_tracking import error_tracking_start

    error_tracking_start(
        dsn=SENTRY_DSN,
        environment=env.str("DJANGO_SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("DJANGO_SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# The REST API under /api/v1/ (changemakers/api). Integrations sign their requests with a
# token staff issue (`Authorization: Bearer cm_...`), never with a session cookie; answers are
# JSON, errors RFC 9457 problem details. Each token may make API_RATE_LIMIT requests a minute.
API_RATE_LIMIT = env.int("DJANGO_API_RATE_LIMIT", default=600)
API_RATE_WINDOW = 60
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["changemakers.api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["changemakers.api.permissions.TokenAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["changemakers.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "changemakers.api.pagination.Cursor",
    "DEFAULT_SCHEMA_CLASS": "changemakers.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "changemakers.api.problems.exception_handler",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Change Makers API",
    "DESCRIPTION": (
        "Creators, the yearly list, cohorts, milestones, nonprofits, funds and grants. "
        "Send a token staff issued you as `Authorization: Bearer <token>`. Lists are paged "
        "with a cursor (`next`); errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for each set of choices, where two models' fields share a name ("status").
    "ENUM_NAME_OVERRIDES": {
        "CauseEnum": "creators.models.Cause",
        "EditionStatusEnum": "creators.models.ChangeMakersList.Status",
        "CohortStatusEnum": "programs.models.Cohort.Status",
        "EnrolmentStatusEnum": "programs.models.Enrolment.Status",
        "MilestoneStatusEnum": "programs.models.Milestone.Status",
        "VerificationStatusEnum": "donations.models.Nonprofit.Verification",
        "GrantStatusEnum": "donations.models.Grant.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Program facts.
PROGRAM_CURRENCY = "USD"
PROGRAM_DONATION_AMOUNT = "25000.00"
# The program's hashtag and its hub account on social networks: on the public pages, the
# share images (changemakers/backoffice/sharing.py) and the Twitter card (twitter:site).
PROGRAM_HASHTAG = env.str("DJANGO_PROGRAM_HASHTAG", default="#ChangeMakers")
PROGRAM_SOCIAL_ACCOUNT = env.str("DJANGO_PROGRAM_SOCIAL_ACCOUNT", default="@changemakers")
# Seconds browsers and proxies may keep a share image before asking again (ETag: a 304 when
# it has not changed).
SHARE_IMAGE_MAX_AGE = env.int("DJANGO_SHARE_IMAGE_MAX_AGE", default=3600)
# Milestone due dates are calendar days in the program's timezone (DJANGO_PROGRAM_TIME_ZONE).
PROGRAM_TIME_ZONE = TIME_ZONE
# A "due soon" reminder goes out this many days before a milestone's due date.
MILESTONE_REMINDER_DAYS_BEFORE = env.int("DJANGO_MILESTONE_REMINDER_DAYS_BEFORE", default=7)
# Reminders reach each creator once this hour has come in the creator's own time zone.
MILESTONE_REMINDER_HOUR = env.int("DJANGO_MILESTONE_REMINDER_HOUR", default=9)
# A milestone still open this many days after its due date is escalated, once, to its cohort's
# program manager.
MILESTONE_ESCALATE_AFTER_DAYS = env.int("DJANGO_MILESTONE_ESCALATE_AFTER_DAYS", default=7)
# The fund creators' donations are proposed against; empty: the program-currency fund with the
# most money left.
PROGRAM_DONATION_FUND = env.str("DJANGO_PROGRAM_DONATION_FUND", default="")
# A grant of more than this amount (in its fund's currency) needs two approvers, neither its
# proposer: the first approval is recorded, the second commits the money. The program's
# $25,000 donations are above the default.
SECOND_APPROVAL_ABOVE = env("DJANGO_SECOND_APPROVAL_ABOVE", cast=Decimal, default=Decimal("10000"))
# TikTok links on progress updates: the preview job asks this oEmbed endpoint about each video
# (a stand-in's address in tests), waits at most TIKTOK_TIMEOUT seconds for an answer, and
# downloads the thumbnail only over HTTPS from these CDN hosts (and their subdomains) or the
# endpoint's own origin. Thumbnails are kept and served by us: the CSP's img-src stays 'self'.
TIKTOK_OEMBED_URL = env.str("DJANGO_TIKTOK_OEMBED_URL", default="https://www.tiktok.com/oembed")
TIKTOK_TIMEOUT = env.float("DJANGO_TIKTOK_TIMEOUT", default=10.0)
TIKTOK_THUMBNAIL_HOSTS = env.list(
    "DJANGO_TIKTOK_THUMBNAIL_HOSTS",
    default=["tiktokcdn.com", "tiktokcdn-us.com", "tiktokcdn-eu.com", "ibyteimg.com", "muscdn.com"],
)
# Tries per preview before its link stays a plain link; a failed try is tried again after an
# exponential wait (TIKTOK_RETRY_BACKOFF seconds, doubling, capped at six hours).
TIKTOK_MAX_ATTEMPTS = env.int("DJANGO_TIKTOK_MAX_ATTEMPTS", default=8)
TIKTOK_RETRY_BACKOFF = env.int("DJANGO_TIKTOK_RETRY_BACKOFF", default=60)
# Nonprofit contacts sign in with an emailed link: single use, and only this many seconds
# (default three days: long enough to open it from a shared grants inbox).
NONPROFIT_LINK_MAX_AGE = env.int("DJANGO_NONPROFIT_LINK_MAX_AGE", default=3 * 24 * 3600)

# Personal data. An approved export's ZIP can be downloaded for this many days, then the
# retention purge deletes it; declined applications are deleted this many days after the
# decision (`manage.py retention_purge`, run daily by beat).
PERSONAL_DATA_EXPORT_DAYS = env.int("DJANGO_PERSONAL_DATA_EXPORT_DAYS", default=7)
RETENTION_DECLINED_APPLICATIONS_DAYS = env.int(
    "DJANGO_RETENTION_DECLINED_APPLICATIONS_DAYS", default=365
)
