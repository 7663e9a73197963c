"""Program jobs: thin tasks that re-fetch their row and call one service. The periodic ones
are scheduled in changemakers/beat.py.

Each task's name is written out: services enqueue it by that name once they commit
(`changemakers.core.jobs.enqueue_on_commit`), so renaming or moving a function keeps it."""

from celery import shared_task

from .models import Application, Milestone, TikTokVideo
from .services import (
    application_declined_email,
    milestone_escalations_send,
    milestone_reminders_send,
    milestone_review_email,
    opportunity_cancellation_email,
    opportunity_reminder_deliver,
    opportunity_reminders_send,
    staff_digest_send,
    tiktok_preview_fetch,
    tiktok_previews_sweep,
)
from .services.tiktok import retry_delay

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="programs.tasks.send_milestone_reminders", acks_late=True)
def send_milestone_reminders() -> int:
    """Every quarter of an hour: due-in-a-week, due-today and overdue reminders, each once per
    milestone, to each creator once 09:00 has come in their time zone."""
    return milestone_reminders_send()


@shared_task(name="programs.tasks.send_staff_digest", acks_late=True)
def send_staff_digest() -> bool:
    """Weekly: overdue milestones and updates awaiting review, to every staff member."""
    return staff_digest_send()


@shared_task(name="programs.tasks.send_milestone_review", acks_late=True, **RETRY)
def send_milestone_review(milestone_id: int) -> bool:
    milestone = (
        Milestone.objects.select_related("enrolment__creator__user").filter(pk=milestone_id).first()
    )
    return milestone is not None and milestone_review_email(milestone=milestone)


@shared_task(name="programs.tasks.send_application_declined", acks_late=True, **RETRY)
def send_application_declined(application_id: int) -> bool:
    application = Application.objects.filter(pk=application_id).first()
    return application is not None and application_declined_email(application=application)


@shared_task(name="programs.tasks.send_opportunity_reminders", acks_late=True)
def send_opportunity_reminders() -> int:
    """Every quarter of an hour: queue the reminders of the people signed up to an
    opportunity whose day before has reached 09:00 where they live."""
    return opportunity_reminders_send()


@shared_task(name="programs.tasks.send_opportunity_reminder", acks_late=True, **RETRY)
def send_opportunity_reminder(signup_id: int) -> bool:
    """One sign-up's reminder, if still due and not sent yet."""
    return opportunity_reminder_deliver(signup_id=signup_id)


@shared_task(name="programs.tasks.send_opportunity_cancellation", acks_late=True, **RETRY)
def send_opportunity_cancellation(signup_id: int) -> bool:
    """Tell one person signed up that their opportunity is cancelled, once."""
    return opportunity_cancellation_email(signup_id=signup_id)


@shared_task(name="programs.tasks.escalate_overdue_milestones", acks_late=True)
def escalate_overdue_milestones() -> int:
    """Hourly: milestones overdue past MILESTONE_ESCALATE_AFTER_DAYS, to their program manager."""
    return milestone_escalations_send()


@shared_task(
    name="programs.tasks.fetch_tiktok_preview", bind=True, acks_late=True, max_retries=None
)
def fetch_tiktok_preview(self, video_id: int):
    """Fetch one TikTok video's preview. A transient failure is tried again after a growing
    wait; how many tries are left is counted in the database (TIKTOK_MAX_ATTEMPTS), so a task
    re-queued by the sweeper does not start counting afresh."""
    video = tiktok_preview_fetch(video_id=video_id)
    if video is None:
        return "gone"
    if video.status == TikTokVideo.Status.PENDING and video.attempts:
        # Returned rather than raised: queued all the same, and run at once when eager.
        return self.retry(countdown=retry_delay(video.attempts), throw=False)
    return video.status


@shared_task(name="programs.tasks.retry_tiktok_previews", acks_late=True)
def retry_tiktok_previews() -> int:
    """Every 15 minutes: queue the pending previews whose next try is due."""
    return tiktok_previews_sweep()
