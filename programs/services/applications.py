"""Applications to the program: submitted on the public page, accepted into a cohort (the
applicant becomes a creator with a place) or declined with a message."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, state_transition
from changemakers.core.emails import email_send
from changemakers.core.jobs import enqueue_on_commit
from creators.models import Creator

from ..models import Application, Cohort
from .cohorts import creator_onboard


@transaction.atomic
def application_submit(
    *,
    display_name: str,
    handle: str,
    email: str,
    country: str,
    causes: Sequence[str],
    channel_url: str,
    mission: str,
    cohort: Cohort | None = None,
    follower_count: int = 0,
    language: str = "en",
) -> Application:
    if cohort is not None and cohort.status != Cohort.Status.PLANNING:
        raise ValidationError(
            _("Applications are open only for cohorts that have not started."),
            code="cohort_not_open",
        )
    application = Application(
        cohort=cohort,
        display_name=display_name,
        handle=handle.lstrip("@"),
        email=email,
        country=country,
        causes=list(causes),
        channel_url=channel_url,
        mission=mission,
        follower_count=follower_count,
        language=language,
    )
    application.full_clean()
    application.save()
    audit_record(actor=None, obj=application, action="created", to_state=application.status)
    return application


def application_accept(*, application: Application, cohort: Cohort, actor) -> Application:
    """Accept an applicant into a cohort: they become a creator, are offered a place and are
    invited to the portal by email. Refused as a whole if any step is (full cohort, a handle
    another creator has, an email that signs in for someone else): an application never
    takes over an existing creator's profile."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == Application.Status.ACCEPTED:
            return locked
        enrolment = creator_onboard(
            cohort=cohort,
            email=locked.email,
            actor=actor,
            mission=locked.mission,
            display_name=locked.display_name,
            handle=locked.handle,
            country=locked.country.code,
            causes=locked.causes,
            follower_count=locked.follower_count,
            links=[(_("Channel"), locked.channel_url)],
        )
        Creator.objects.filter(pk=enrolment.creator_id).update(language=locked.language)
        return state_transition(
            locked,
            to=Application.Status.ACCEPTED,
            allowed_from=[Application.Status.PENDING],
            actor=actor,
            action="accepted",
            note=str(cohort),
            changes={"creator": enrolment.creator, "cohort": cohort, "decided_at": timezone.now()},
        )


def application_decline(*, application: Application, message: str, actor) -> Application:
    """Decline an application with a message the applicant is emailed."""
    if not message.strip():
        raise ValidationError(
            _("Write the applicant a message: they will receive it by email."),
            code="message_empty",
        )
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status == Application.Status.DECLINED:
            return locked
        declined = state_transition(
            locked,
            to=Application.Status.DECLINED,
            allowed_from=[Application.Status.PENDING],
            actor=actor,
            action="declined",
            note=message,
            changes={"decision_message": message, "decided_at": timezone.now()},
        )
        enqueue_on_commit("programs.tasks.send_application_declined", declined.pk)
        return declined


def application_declined_email(*, application: Application) -> bool:
    if application.status != Application.Status.DECLINED:
        return False
    email_send(
        to=[application.email],
        template="programs/email/application_declined",
        language=application.language,
        context={"application": application},
    )
    return True
