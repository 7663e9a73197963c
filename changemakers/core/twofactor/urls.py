"""Two-factor sign-in for everyone, under /accounts/two-factor/; the passkey ceremony's
endpoints (django-otp-webauthn's, reachable before the second factor is passed)."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn

from . import views
from .middleware import second_factor_exempt

app_name = "twofactor"

# django-otp-webauthn's script finds these by its own namespace, `otp_webauthn`.
webauthn_patterns = (
    [
        path(
            "registration/begin/",
            second_factor_exempt(webauthn.BeginCredentialRegistrationView.as_view()),
            name="credential-registration-begin",
        ),
        path(
            "registration/complete/",
            second_factor_exempt(views.PasskeyRegistrationCompleteView.as_view()),
            name="credential-registration-complete",
        ),
        path(
            "authentication/begin/",
            second_factor_exempt(webauthn.BeginCredentialAuthenticationView.as_view()),
            name="credential-authentication-begin",
        ),
        path(
            "authentication/complete/",
            second_factor_exempt(webauthn.CompleteCredentialAuthenticationView.as_view()),
            name="credential-authentication-complete",
        ),
        path(
            "jsi18n/",
            second_factor_exempt(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
            name="js-i18n-catalog",
        ),
    ],
    "otp_webauthn",
)

urlpatterns = [
    path("", views.security, name="security"),
    path("verify/", views.verify, name="verify"),
    path("setup/", views.setup, name="setup"),
    path("recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("remove/<str:kind>/<int:pk>/", views.device_remove, name="device-remove"),
]

# Mounted beside `urlpatterns` (changemakers/urls.py), outside the `twofactor` namespace.
passkey_urls = include(webauthn_patterns)
