from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("Programs")

    def ready(self) -> None:
        from changemakers.core.events import event_types_declare
        from changemakers.core.personal_data import personal_data_declare
        from changemakers.core.roles import (
            VIEW_EVERY_MODEL,
            StaffRole,
            staff_role_grants_declare,
        )
        from changemakers.core.verbs import verbs_declare

        from .events import MilestoneEvent, milestone_event_data
        from .models import AuditVerb
        from .services.personal_data import programs_data_collect, programs_data_erase

        verbs_declare(AuditVerb)
        personal_data_declare("programs", collect=programs_data_collect, erase=programs_data_erase)
        event_types_declare(MilestoneEvent, payload=milestone_event_data)
        staff_role_grants_declare(
            "programs",
            {
                # Cohorts, enrolments, milestone reviews and applications are the program's.
                StaffRole.PROGRAM_MANAGER: [
                    VIEW_EVERY_MODEL,
                    *(
                        f"{action}_{model}"
                        for model in ("cohort", "enrolment", "milestone", "application")
                        for action in ("add", "change")
                    ),
                    "add_milestoneplanitem",
                    "change_milestoneplanitem",
                    "delete_milestoneplanitem",
                    # The impact indicators and the figures corrected in review.
                    "add_impactindicator",
                    "change_impactindicator",
                    "change_impactvalue",
                    # Public highlights: approve or decline what creators ask to show.
                    "review_highlight",
                    # Opportunities: publishing, changing, cancelling, marking attendance.
                    "manage_opportunity",
                ],
                StaffRole.AUDITOR: [VIEW_EVERY_MODEL],
            },
        )
