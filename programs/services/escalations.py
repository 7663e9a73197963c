"""Escalation: a milestone still open more than MILESTONE_ESCALATE_AFTER_DAYS after its due
date (program days) is brought to its cohort's program manager, once: by email, in their
language and time zone, and on the staff pages (the milestone's `escalated_at`, and an audit
event naming who was told)."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from changemakers.core.audit import audit_record
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.roles import StaffRole
from changemakers.core.timezones import preferences_of

from ..clock import program_today
from ..models import Milestone

logger = logging.getLogger(__name__)


def escalation_recipients(cohort) -> list:
    """Who is told about the cohort's long-overdue milestones: its program manager while an
    active staff account with an address; otherwise every active program manager."""
    manager = cohort.manager
    if manager is not None and manager.is_active and manager.is_staff and manager.email:
        return [manager]
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=StaffRole.PROGRAM_MANAGER)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )


def milestone_escalate(*, milestone_id: int, today: datetime.date | None = None) -> bool:
    """Escalate one milestone if it is still open, long overdue on `today` and not escalated
    yet; under its row lock, so two runs never both escalate it. The emails go out inside the
    transaction: if the mail server fails, nothing is recorded and the next run tries again.
    Returns whether it escalated."""
    today = today or program_today()
    after = settings.MILESTONE_ESCALATE_AFTER_DAYS
    with transaction.atomic():
        milestone = (
            Milestone.objects.to_escalate(today, after_days=after)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("enrolment__creator", "enrolment__cohort__manager")
            .filter(pk=milestone_id)
            .first()
        )
        if milestone is None:
            return False
        cohort = milestone.enrolment.cohort
        recipients = escalation_recipients(cohort)
        milestone.escalated_at = timezone.now()
        milestone.save(update_fields=["escalated_at", "updated_at"])
        audit_record(
            actor=None,
            obj=milestone,
            action="escalated",
            from_state=milestone.status,
            to_state=milestone.status,
            note=", ".join(user.email for user in recipients) or "-",
        )
        for user in recipients:
            preferences = preferences_of(user)
            email_send(
                to=[user.email],
                template="programs/email/milestone_escalation",
                language=preferences.language or settings.LANGUAGE_CODE,
                time_zone=preferences.time_zone,
                context={
                    "manager": user,
                    "milestone": milestone,
                    "creator": milestone.enrolment.creator,
                    "cohort": cohort,
                    "days_overdue": (today - milestone.due_date).days,
                    "escalated_at": milestone.escalated_at,
                    "link": absolute_url(milestone.get_review_url()),
                },
            )
        return True


def milestone_escalations_send(*, today: datetime.date | None = None) -> int:
    """The hourly job: escalate every milestone now long overdue. Returns how many."""
    today = today or program_today()
    after = settings.MILESTONE_ESCALATE_AFTER_DAYS
    ids = list(
        Milestone.objects.to_escalate(today, after_days=after)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    escalated = 0
    for milestone_id in ids:
        try:
            escalated += milestone_escalate(milestone_id=milestone_id, today=today)
        except OSError:  # the mail server: the milestone stays unescalated for the next run
            logger.exception("Milestone %s could not be escalated", milestone_id)
    return escalated
