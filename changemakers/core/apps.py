from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The kernel every app uses: the audit log, single-use links, roles, htmx answers,
    paging, rate limits, the page cache, uploads, CSV streaming, admin base classes. It
    imports no app."""

    name = "changemakers.core"
    label = "core"
    verbose_name = _("Audit and access")

    def ready(self) -> None:
        # django.contrib.admin comes first in INSTALLED_APPS: every admin module is loaded.
        from django.contrib import admin

        from .admin_guards import guard_admin_site

        guard_admin_site(admin.site)
