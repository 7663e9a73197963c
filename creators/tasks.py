"""Creator jobs: thin tasks that re-fetch their row and call one service.

Each task's name is written out: services enqueue it by that name once they commit
(`changemakers.core.jobs.enqueue_on_commit`), so renaming or moving a function keeps it."""

from celery import shared_task

from .models import Creator, CreatorInvitation
from .services import consent_reminder_email, creator_invitation_email


@shared_task(
    name="creators.tasks.send_creator_invitation",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_creator_invitation(invitation_id: int) -> bool:
    invitation = (
        CreatorInvitation.objects.select_related("creator__user").filter(pk=invitation_id).first()
    )
    if invitation is None:
        return False
    return creator_invitation_email(invitation=invitation)


@shared_task(
    name="creators.tasks.send_consent_reminder",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_consent_reminder(creator_id: int) -> bool:
    creator = Creator.objects.select_related("user").filter(pk=creator_id).first()
    if creator is None:
        return False
    return consent_reminder_email(creator=creator)
