"""The events this app emits for partners (webhooks), and what of a milestone may go out with
them: its title, status and due date, its creator's handle and name, its cohort. Never the
progress update's text or files, nor staff feedback. Declared in `ProgramsConfig.ready`."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MilestoneEvent(models.TextChoices):
    SUBMITTED = "milestone.submitted", _("Milestone submitted")
    APPROVED = "milestone.approved", _("Milestone approved")


def milestone_event_data(milestone) -> dict:
    enrolment = milestone.enrolment
    creator = enrolment.creator
    return {
        "id": milestone.pk,
        "title": milestone.title,
        "status": milestone.status,
        "due_date": milestone.due_date.isoformat(),
        "creator": {"handle": creator.handle, "name": creator.display_name},
        "cohort": {"id": enrolment.cohort_id, "name": enrolment.cohort.name},
    }
