"""Creator jobs: thin tasks that re-fetch their row and call one service."""

from celery import shared_task

from .models import CreatorInvitation
from .services import creator_invitation_email


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_creator_invitation(invitation_id: int) -> bool:
    invitation = (
        CreatorInvitation.objects.select_related("creator__user").filter(pk=invitation_id).first()
    )
    if invitation is None:
        return False
    return creator_invitation_email(invitation=invitation)
