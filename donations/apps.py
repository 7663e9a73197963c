from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donations")

    def ready(self) -> None:
        from changemakers.core.roles import Role, role_link_declare
        from changemakers.core.verbs import verbs_declare

        from .models import AuditVerb

        # Connects the receiver that reloads payout providers when their settings change.
        from .payouts import registry  # noqa: F401

        verbs_declare(AuditVerb)
        role_link_declare(Role.NONPROFIT, "nonprofit_contact")
