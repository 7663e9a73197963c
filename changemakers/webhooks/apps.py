from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Outbound webhooks: partners' endpoints, the deliveries of the events the apps emit, and
    their attempts. Above the apps, below the back office: it reads only the kernel's events."""

    name = "changemakers.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

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
            "webhooks",
            {
                # Program managers look after the program's partners; the auditor reads.
                StaffRole.PROGRAM_MANAGER: [VIEW_EVERY_MODEL, "manage_endpoint"],
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )
