from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Outbound webhooks: partners' endpoints, the deliveries of the events the apps emit, and
    their attempts. Above the apps, below the back office: it reads only the kernel's events."""

    name = "changemakers.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from changemakers.core.personal_data import personal_data_redactor_declare
        from changemakers.core.roles import (
            VIEW_EVERY_MODEL,
            StaffRole,
            staff_role_grants_declare,
        )
        from changemakers.core.verbs import verbs_declare

        from .models import AuditVerb
        from .services import deliveries_redact

        verbs_declare(AuditVerb)
        # An erased person's names leave the bodies of the deliveries kept here.
        personal_data_redactor_declare("deliveries", deliveries_redact)
        staff_role_grants_declare(
            "webhooks",
            {
                # Program managers look after the program's partners; the auditor reads.
                StaffRole.PROGRAM_MANAGER: [VIEW_EVERY_MODEL, "manage_endpoint"],
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )
