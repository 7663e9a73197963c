from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreatorsConfig(AppConfig):
    name = "creators"
    verbose_name = _("Creators")

    def ready(self) -> None:
        from changemakers.core.emails import email_language_declare
        from changemakers.core.events import event_types_declare
        from changemakers.core.personal_data import personal_data_declare
        from changemakers.core.roles import (
            VIEW_EVERY_MODEL,
            Role,
            StaffRole,
            role_link_declare,
            staff_role_grants_declare,
        )
        from changemakers.core.timezones import time_zone_country_declare
        from changemakers.core.verbs import verbs_declare

        from .events import ListEvent, list_event_data
        from .models import AuditVerb
        from .services.personal_data import creator_data_collect, creator_data_erase

        verbs_declare(AuditVerb)
        personal_data_declare("creators", collect=creator_data_collect, erase=creator_data_erase)
        event_types_declare(ListEvent, payload=list_event_data)
        role_link_declare(Role.CREATOR, "creator")
        # A creator's time zone is first guessed from their country.
        time_zone_country_declare(_creator_country)
        # And their emails are in the language of their profile.
        email_language_declare(_creator_language)
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


def _creator_country(user) -> str | None:
    from .models import creator_of

    creator = creator_of(user)
    return creator.country.code if creator is not None else None


def _creator_language(user) -> str:
    from .models import creator_of

    creator = creator_of(user)
    return creator.language if creator is not None else ""
