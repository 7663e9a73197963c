from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from changemakers import health
from changemakers.backoffice.metrics import metrics
from changemakers.core.language import language_switch
from changemakers.core.preferences import preferences_edit
from changemakers.core.twofactor.urls import passkey_urls

admin.site.site_header = _("Change Makers administration")
admin.site.site_title = _("Change Makers admin")
admin.site.index_title = _("Program data")


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on pages without an icon link (the admin's)."""

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("img/favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    # The creators' pages, with the public profile composed above the apps.
    path("", include("changemakers.backoffice.creator_urls")),
    path("", include("programs.urls")),
    path("portal/donation/", include("donations.portal_urls")),
    path("nonprofit/", include("donations.nonprofit_urls")),
    path("nonprofits/", include("donations.public_urls")),
    path("webhooks/", include("donations.webhook_urls")),
    path("program/", include("changemakers.backoffice.public_urls")),
    path("share/", include("changemakers.backoffice.share_urls")),
    path("accounts/two-factor/webauthn/", passkey_urls),
    path("accounts/two-factor/", include("changemakers.core.twofactor.urls")),
    path("accounts/settings/", preferences_edit, name="preferences"),
    path("accounts/", include("creators.auth_urls")),
    path("staff/two-factor/", include("changemakers.core.twofactor.staff_urls")),
    path("staff/integrations/", include("changemakers.api.staff_urls")),
    path("staff/webhooks/", include("changemakers.webhooks.urls")),
    path("staff/", include("changemakers.backoffice.urls")),
    path("staff/", include("donations.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/", language_switch, name="language"),
    path("api/v1/", include("changemakers.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
]

# Uploads are never served straight from MEDIA_ROOT, not even in DEBUG: creator photos and
# update attachments go through views that check who asks and set a safe content type.
