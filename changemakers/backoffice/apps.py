from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackOfficeConfig(AppConfig):
    """Above the apps: the staff dashboard, the CSV exports, the public program page and its
    text, and the demo data. It reads every app; no app imports it."""

    name = "changemakers.backoffice"
    label = "backoffice"
    verbose_name = _("Program")

    def ready(self) -> None:
        from changemakers.core.roles import (
            VIEW_EVERY_MODEL,
            StaffRole,
            staff_role_grants_declare,
        )
        from changemakers.core.verbs import verbs_declare

        from .models import AuditVerb

        verbs_declare(AuditVerb)
        staff_role_grants_declare(
            "backoffice",
            {
                # The public program page's text.
                StaffRole.PROGRAM_MANAGER: [
                    "view_programhub",
                    "add_programhub",
                    "change_programhub",
                    # Personal data requests: one program manager asks, another approves.
                    "view_personaldatarequest",
                    "handle_personal_data",
                ],
                # The auditor reads the requests, never the exports.
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )
