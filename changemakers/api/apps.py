from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API under /api/v1/, above the apps like the back office: it reads every app
    and writes through their services; no app imports it."""

    name = "changemakers.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from changemakers.core.roles import VIEW_EVERY_MODEL, StaffRole, staff_role_grants_declare
        from changemakers.core.verbs import verbs_declare

        from .models import AuditVerb

        verbs_declare(AuditVerb)
        staff_role_grants_declare(
            "api",
            {
                # Program managers connect the program's partners; the auditor reads who has
                # which token. An integration gets only staff roles its creator holds.
                StaffRole.PROGRAM_MANAGER: [
                    "view_integration",
                    "manage_integration",
                    "view_apitoken",
                ],
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )
