from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("Programs")

    def ready(self) -> None:
        from changemakers.core.verbs import verbs_declare

        from .models import AuditVerb

        verbs_declare(AuditVerb)
