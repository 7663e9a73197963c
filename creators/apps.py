from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreatorsConfig(AppConfig):
    name = "creators"
    verbose_name = _("Creators")

    def ready(self) -> None:
        from changemakers.core.events import event_types_declare
        from changemakers.core.roles import (
            VIEW_EVERY_MODEL,
            Role,
            StaffRole,
            role_link_declare,
            staff_role_grants_declare,
        )
        from changemakers.core.verbs import verbs_declare

        from .events import ListEvent, list_event_data
        from .models import AuditVerb

        verbs_declare(AuditVerb)
        event_types_declare(ListEvent, payload=list_event_data)
        role_link_declare(Role.CREATOR, "creator")
        staff_role_grants_declare(
            "creators",
            {
                # Creators, their invitations and the yearly lists are the program's.
                StaffRole.PROGRAM_MANAGER: [
                    *_every("creator", "creatorlink", "creatorinvitation"),
                    *_every("changemakerslist", "listentry", delete=True),
                ],
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )


def _every(*models: str, delete: bool = False) -> list[str]:
    """View, add and change (and delete) permissions of `models`."""
    actions = ("view", "add", "change", *(("delete",) if delete else ()))
    return [f"{action}_{model}" for model in models for action in actions]
