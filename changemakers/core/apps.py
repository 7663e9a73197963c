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
        from django.db.models.signals import post_migrate

        from .admin_guards import guard_admin_site
        from .roles import (
            VIEW_EVERY_MODEL,
            StaffRole,
            staff_role_grants_declare,
            staff_roles_sync_after_migrate,
        )

        guard_admin_site(admin.site)
        # The auditor reads the audit log and who holds which role, in the admin too.
        staff_role_grants_declare(
            "core",
            {StaffRole.AUDITOR: [VIEW_EVERY_MODEL, "auth.view_user", "auth.view_group"]},
        )
        post_migrate.connect(staff_roles_sync_after_migrate, dispatch_uid="core.staff_roles")
