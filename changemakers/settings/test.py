"""Test settings: speed-only overrides of base.py. Database and broker come from the
environment exactly as in production (`.ci/run` points them at PostgreSQL and Redis)."""

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
# Bank details are encrypted at rest (changemakers/core/encryption.py): a test-only key.
os.environ.setdefault(
    "DJANGO_FIELD_ENCRYPTION_KEYS", "L1jt7iFRvMwgQLrrpD3S9ZSOQzvSSlTzDTEsVU2mxnQ="
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# Tests sign staff in with force_login or the password form alone; the tests of two-factor
# sign-in (tests/core/test_twofactor*.py, tests/e2e/test_two_factor.py) turn the requirement on.
os.environ.setdefault("DJANGO_STAFF_2FA_REQUIRED", "false")

from .base import *  # noqa: F403
from .base import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test process counts rate limits on its own: a shared Redis would carry counts from one
# test into the next (tests/test_settings.py checks the Redis cache of production settings).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Tests roll their data back, which no cache would see: parts of pages are computed afresh
    # (tests/creators/test_page_cache.py turns a real cache on to prove it is kept right).
    "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
# No test reaches TikTok: a closed local port (connection refused) unless a test points the
# preview job at the stand-in (the `tiktok_standin` fixture).
TIKTOK_OEMBED_URL = "http://127.0.0.1:9/oembed"

# Events are recorded (core.OutboxEvent) but handed to no task, so the jobs a test expects a
# service to queue are the service's own; the webhook tests (tests/webhooks/conftest.py) hand
# them on as production does.
EVENT_TASKS: list[str] = []
# Tests run tasks in-process unless they start a real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Tests never run collectstatic: WhiteNoise serves from the finders, as runserver does,
# instead of warning on every request that STATIC_ROOT does not exist.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# The program's bank account in the payment files of bank transfers by hand (ISO 13616's
# published example IBAN).
BANK_DEBTOR_NAME = "Change Makers Program"
BANK_DEBTOR_IBAN = "GB33BUKB20201555555555"
BANK_DEBTOR_BIC = "BUKBGB22"
