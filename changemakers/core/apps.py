from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

OTP_APP_LABELS = {"otp_totp", "otp_static", "django_otp_webauthn"}


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
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  registers the kernel's system checks
        from .admin_guards import guard_admin_site
        from .roles import (
            VIEW_EVERY_MODEL,
            StaffRole,
            staff_role_grants_declare,
            staff_roles_sync_after_migrate,
        )
        from .search import register_sqlite_fold
        from .timezones import remember_on_sign_in as remember_time_zone
        from .twofactor.middleware import remember_on_sign_in
        from .twofactor.verbs import AuditVerb
        from .verbs import verbs_declare

        verbs_declare(AuditVerb)
        user_logged_in.connect(remember_on_sign_in, dispatch_uid="twofactor-remember")
        user_logged_in.connect(remember_time_zone, dispatch_uid="timezones-remember")
        # Second factors change only through changemakers.core.twofactor, which audits every
        # change: the admins django-otp and django-otp-webauthn register would not.
        for model in [m for m in admin.site._registry if m._meta.app_label in OTP_APP_LABELS]:
            admin.site.unregister(model)
        guard_admin_site(admin.site)
        # The auditor reads the audit log and who holds which role, in the admin too.
        staff_role_grants_declare(
            "core",
            {StaffRole.AUDITOR: [VIEW_EVERY_MODEL, "auth.view_user", "auth.view_group"]},
        )
        post_migrate.connect(staff_roles_sync_after_migrate, dispatch_uid="core.staff_roles")
        # Staff pickers search without regard to case or accents (changemakers.core.search).
        connection_created.connect(register_sqlite_fold, dispatch_uid="core.sqlite_fold")
