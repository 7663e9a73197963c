"""Two-factor sign-in in a real browser: staff type the code of their authenticator app after
the password; staff without a second factor set one up right after it (QR code and secret,
then recovery codes); and a passkey, through Chromium's virtual authenticator."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import Page, expect

from tests.e2e.test_sign_in import sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # the demo's development-only secret


def code_of(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app given `secret` shows (`steps_ahead` codes later)."""
    return f"{totp(b32decode(secret.replace(' ', '')), t0=-30 * steps_ahead):06d}"


@pytest.fixture(autouse=True)
def _required(settings):
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def staff(db):
    return UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)


def test_staff_sign_in_with_the_code_of_their_authenticator_app(page: Page, a11y, staff):
    TOTPDevice.objects.create(
        user=staff, name="Authenticator app", key=b32decode(SECRET).hex(), confirmed=True
    )

    sign_in(page, staff.username, PASSWORD, a11y)

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/\?next=%2Fstaff%2F$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Second step of signing in")
    a11y.check(page)
    page.get_by_role("textbox", name="Code").fill(code_of(SECRET))
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1, name="Program dashboard")).to_be_visible()
    a11y.check(page)
    page.goto("/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Program data")
    a11y.check(page)


def test_staff_without_a_second_factor_set_up_an_app_after_the_password(page: Page, a11y, staff):
    sign_in(page, staff.username, PASSWORD, a11y)

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/\?next=%2Fstaff%2F$"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    a11y.check(page)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from your app").fill(code_of(secret))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    a11y.check(page)
    page.get_by_role("link", name="I have saved them: continue").click()

    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    assert TOTPDevice.objects.get(user=staff).confirmed


def test_a_passkey_is_added_and_then_signs_in(page: Page, a11y, staff, settings, live_server):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    sign_in(page, staff.username, PASSWORD, a11y)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    a11y.check(page)
    page.get_by_role("button", name="Add a passkey").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    a11y.check(page)
    assert WebAuthnCredential.objects.filter(user=staff, confirmed=True).count() == 1
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)

    page.locator(".site-nav").get_by_role("button", name="Sign out").click()
    sign_in(page, staff.username, PASSWORD, a11y)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    a11y.check(page)
    page.get_by_role("button", name="Use my passkey").click()

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1, name="Program dashboard")).to_be_visible()
