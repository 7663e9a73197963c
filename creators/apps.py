from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreatorsConfig(AppConfig):
    name = "creators"
    verbose_name = _("Creators")

    def ready(self) -> None:
        from changemakers.core.roles import Role, role_link_declare
        from changemakers.core.verbs import verbs_declare

        from .models import AuditVerb

        verbs_declare(AuditVerb)
        role_link_declare(Role.CREATOR, "creator")
