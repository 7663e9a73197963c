"""Production settings keep sessions and the CSRF cookie on HTTPS and out of scripts' reach,
pin browsers to HTTPS (HSTS), redirect plain HTTP, and forbid framing; and a production-configured
app really answers with those headers and cookies.

Builds on tests/test_settings.py, which runs `check --deploy` on the same settings and proves a
missing secret stops start-up; the environment is built the same way (no `.env`)."""

import json
import secrets

import pytest

from tests.test_settings import PRODUCTION_ENV, run_python, settings_from

YEAR = 365 * 24 * 3600


def production(monkeypatch: pytest.MonkeyPatch) -> dict:
    return settings_from(monkeypatch, DJANGO_SECRET_KEY=secrets.token_urlsafe(64), **PRODUCTION_ENV)


def test_cookies_travel_only_over_https_and_the_session_is_out_of_scripts_reach(monkeypatch):
    loaded = production(monkeypatch)
    assert loaded["DEBUG"] is False
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    # Django's defaults, relied on: cross-site requests carry no session cookie.
    assert loaded.get("SESSION_COOKIE_SAMESITE", "Lax") == "Lax"
    assert loaded.get("CSRF_COOKIE_SAMESITE", "Lax") == "Lax"


def test_browsers_are_held_to_https_for_a_year(monkeypatch):
    loaded = production(monkeypatch)
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= YEAR
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_HSTS_PRELOAD"] is True
    # The TLS proxy in front says the request was HTTPS; only the health probe skips HTTPS.
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$", r"^healthz/live$"]


def test_pages_cannot_be_framed_sniffed_or_leak_their_address(monkeypatch):
    loaded = production(monkeypatch)
    assert loaded["X_FRAME_OPTIONS"] == "DENY"
    assert loaded["SECURE_CSP"]["frame-ancestors"] == ["'none'"]
    assert loaded["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert loaded["SECURE_REFERRER_POLICY"] == "same-origin"


def test_development_relaxes_only_what_http_on_localhost_needs(monkeypatch):
    loaded = settings_from(monkeypatch, DJANGO_DEBUG="true")
    assert (loaded["SESSION_COOKIE_SECURE"], loaded["CSRF_COOKIE_SECURE"]) == (False, False)
    assert (loaded["SECURE_SSL_REDIRECT"], loaded["SECURE_HSTS_SECONDS"]) == (False, 0)
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["X_FRAME_OPTIONS"] == "DENY"
    assert loaded["SECURE_CSP"] == production(monkeypatch)["SECURE_CSP"]


# Runs in a fresh interpreter on production settings (DEBUG off, the deployment's secret and
# host) with an in-memory database: signs a person in over HTTPS as the TLS proxy reports it,
# asks for pages over plain HTTP, and prints what came back.
_ASK_THE_APP = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
get_user_model().objects.create_user("someone@example.org", password="a long passphrase 1")
client = Client(HTTP_HOST="changemakers.example")
https = {"X-Forwarded-Proto": "https"}
login = client.post(
    "/accounts/login/",
    {"username": "someone@example.org", "password": "a long passphrase 1"},
    headers=https,
)
answers = {
    "login": login,
    "health_https": client.get("/healthz", headers=https),
    "health_http": client.get("/healthz"),
    "page_http": client.get("/list/?year=2026"),
}
print(json.dumps({
    "answers": {
        name: {"status": r.status_code, "headers": dict(r.headers)}
        for name, r in answers.items()
    },
    "cookies": {
        name: {key: morsel[key] for key in ("secure", "httponly", "samesite")}
        for name, morsel in login.cookies.items()
    },
}))
"""


@pytest.fixture(scope="module")
def answered() -> dict:
    result = run_python(
        _ASK_THE_APP,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL="sqlite://:memory:",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_sign_in_over_https_sets_secure_http_only_cookies(answered):
    login = answered["answers"]["login"]
    assert login["status"] == 302
    cookies = answered["cookies"]
    assert cookies["sessionid"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert cookies["csrftoken"]["secure"] is True
    assert cookies["csrftoken"]["samesite"] == "Lax"


def test_https_answers_carry_hsts_and_the_other_security_headers(answered):
    for name in ("login", "health_https"):
        headers = answered["answers"][name]["headers"]
        assert headers["Strict-Transport-Security"] == (
            f"max-age={YEAR}; includeSubDomains; preload"
        ), name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name


def test_plain_http_is_sent_to_https_except_the_health_probe(answered):
    page = answered["answers"]["page_http"]
    assert page["status"] == 301
    assert page["headers"]["Location"] == "https://changemakers.example/list/?year=2026"
    health = answered["answers"]["health_http"]
    assert health["status"] == 200
    # Browsers ignore HSTS over plain HTTP; Django does not send it there.
    assert "Strict-Transport-Security" not in health["headers"]


def test_production_requires_staff_to_sign_in_with_a_second_factor(monkeypatch):
    loaded = production(monkeypatch)
    assert loaded["STAFF_2FA_REQUIRED"] is True
    middleware = loaded["MIDDLEWARE"]
    # django-otp reads the session's verified device after the user is known; the gate after
    # both (and after htmx, whose requests it answers with a client redirect).
    assert (
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
        < middleware.index("django_otp.middleware.OTPMiddleware")
        < middleware.index("django_htmx.middleware.HtmxMiddleware")
        < middleware.index("changemakers.core.twofactor.middleware.SecondFactorMiddleware")
    )
    # A passkey is a second factor, never a way round the password (and its lockout).
    assert loaded["OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN"] is False
    assert loaded["OTP_ADMIN_HIDE_SENSITIVE_DATA"] is True


def test_only_development_may_let_staff_in_without_a_second_factor(monkeypatch):
    assert settings_from(monkeypatch, DJANGO_DEBUG="true")["STAFF_2FA_REQUIRED"] is False
    asked = settings_from(monkeypatch, DJANGO_DEBUG="true", DJANGO_STAFF_2FA_REQUIRED="true")
    assert asked["STAFF_2FA_REQUIRED"] is True


def test_passkeys_belong_to_the_sites_domain(monkeypatch):
    loaded = settings_from(
        monkeypatch,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_SITE_URL="https://changemakers.example",
        **PRODUCTION_ENV,
    )
    assert loaded["OTP_WEBAUTHN_RP_ID"] == "changemakers.example"
    assert loaded["OTP_WEBAUTHN_ALLOWED_ORIGINS"] == ["https://changemakers.example"]
    development = settings_from(monkeypatch, DJANGO_DEBUG="true")
    assert development["OTP_WEBAUTHN_RP_ID"] == "localhost"
    assert development["OTP_WEBAUTHN_ALLOWED_ORIGINS"] == ["http://localhost:8000"]
