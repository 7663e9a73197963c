"""Every write about cohorts, enrolments, milestones, applications and reminders."""

import datetime
import logging
import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changemakers.core.audit import audit_record, state_transition
from changemakers.core.emails import absolute_url, email_send
from creators.models import Creator
from creators.services import creator_create, creator_invitation_send

from .models import (
    COHORT_EARLIEST,
    COHORT_LATEST,
    COHORT_MONTHS,
    Application,
    Cohort,
    Enrolment,
    Milestone,
    MilestonePlanItem,
    MilestoneReminder,
    ProgressUpdate,
    StaffDigest,
    StaffDigestDelivery,
    add_months,
)

logger = logging.getLogger(__name__)

# The program's usual plan: (title, days after the cohort starts).
DEFAULT_MILESTONE_PLAN: tuple[tuple[str, int], ...] = (
    (gettext_lazy("Kickoff"), 14),
    (gettext_lazy("Month 2 check-in"), 60),
    (gettext_lazy("Month 4 check-in"), 120),
    (gettext_lazy("Final report"), 175),
)


@transaction.atomic
def cohort_create(
    *,
    name: str,
    start_date: datetime.date,
    capacity: int = 10,
    description: str = "",
    plan: Sequence[tuple[str, int]] = DEFAULT_MILESTONE_PLAN,
    actor=None,
) -> Cohort:
    if not COHORT_EARLIEST <= start_date <= COHORT_LATEST:
        raise ValidationError(
            {
                "start_date": _("Start the cohort between %(earliest)s and %(latest)s.")
                % {"earliest": COHORT_EARLIEST.year, "latest": COHORT_LATEST.year}
            },
            code="start_out_of_range",
        )
    cohort = Cohort(
        name=name,
        start_date=start_date,
        end_date=add_months(start_date, COHORT_MONTHS),
        capacity=capacity,
        description=description,
    )
    cohort.full_clean()
    cohort.save()
    for title, offset_days in plan:
        item = MilestonePlanItem(cohort=cohort, title=str(title), offset_days=offset_days)
        item.full_clean()
        item.save()
    audit_record(actor=actor, obj=cohort, action="created", to_state=cohort.status)
    return cohort


def cohort_start(*, cohort: Cohort, actor) -> Cohort:
    return state_transition(
        cohort,
        to=Cohort.Status.ACTIVE,
        allowed_from=[Cohort.Status.PLANNING],
        actor=actor,
        action="started",
    )


def cohort_complete(*, cohort: Cohort, actor) -> Cohort:
    """End a cohort: its active places are completed and places never taken up are withdrawn,
    in the same transaction, so no one stays active (and reminded) in a cohort that is over."""
    with transaction.atomic():
        completed = state_transition(
            cohort,
            to=Cohort.Status.COMPLETED,
            allowed_from=[Cohort.Status.ACTIVE],
            actor=actor,
            action="completed",
        )
        for enrolment in completed.enrolments.filter(status=Enrolment.Status.ACTIVE):
            enrolment_complete(enrolment=enrolment, actor=actor)
        for enrolment in completed.enrolments.filter(status=Enrolment.Status.INVITED):
            enrolment_withdraw(
                enrolment=enrolment,
                actor=actor,
                reason=_("The cohort ended before it was taken up."),
            )
        return completed


def enrolment_invite(*, cohort: Cohort, creator: Creator, mission: str = "", actor) -> Enrolment:
    """Offer a creator a place in a cohort. Capacity is checked under a lock on the cohort, so
    two staff inviting at once cannot overfill it."""
    with transaction.atomic():
        locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if locked.status == Cohort.Status.COMPLETED:
            raise ValidationError(
                _("%(cohort)s has ended; invite the creator to a later cohort.")
                % {"cohort": locked},
                code="cohort_completed",
            )
        # One active cohort at a time: a place that overlaps the one they hold could never
        # be taken up, so it is refused now rather than at activation.
        overlapping = (
            Enrolment.objects.filter(
                creator=creator,
                status=Enrolment.Status.ACTIVE,
                cohort__start_date__lt=locked.end_date,
                cohort__end_date__gt=locked.start_date,
            )
            .exclude(cohort=locked)
            .select_related("cohort")
            .first()
        )
        if overlapping is not None:
            raise ValidationError(
                _(
                    "%(creator)s is active in %(cohort)s until %(end)s, which overlaps this "
                    "cohort; complete or withdraw that place first."
                )
                % {
                    "creator": creator.display_name,
                    "cohort": overlapping.cohort,
                    "end": date_format(overlapping.cohort.end_date),
                },
                code="already_active",
            )
        enrolment = Enrolment(cohort=locked, creator=creator, mission=mission)
        enrolment.full_clean()
        enrolment.save()
        audit_record(actor=actor, obj=enrolment, action="invited", to_state=enrolment.status)
        return enrolment


def enrolment_activate(*, enrolment: Enrolment, actor) -> Enrolment:
    """The creator takes up their place: the cohort's milestone plan is stamped onto the
    enrolment as dated milestones. Refused if the creator is active in another cohort."""
    with transaction.atomic():
        # Lock the creator so two activations of the same creator are decided one at a time;
        # the partial unique constraint stays the database's last word.
        creator = Creator.objects.select_for_update().get(pk=enrolment.creator_id)
        # Then the cohort (lock order: creator, cohort, enrolment), so it cannot end meanwhile.
        cohort = Cohort.objects.select_for_update().get(pk=enrolment.cohort_id)
        if cohort.status == Cohort.Status.COMPLETED:
            raise ValidationError(
                _("%(cohort)s has ended; its places can no longer be taken up.")
                % {"cohort": cohort},
                code="cohort_completed",
            )
        elsewhere = (
            Enrolment.objects.filter(creator=creator, status=Enrolment.Status.ACTIVE)
            .exclude(pk=enrolment.pk)
            .select_related("cohort")
            .first()
        )
        if elsewhere is not None:
            raise ValidationError(
                _("%(creator)s is already active in %(cohort)s.")
                % {"creator": creator.display_name, "cohort": elsewhere.cohort},
                code="already_active",
            )
        enrolment = state_transition(
            enrolment,
            to=Enrolment.Status.ACTIVE,
            allowed_from=[Enrolment.Status.INVITED],
            actor=actor,
            action="activated",
        )
        milestones_stamp(enrolment=enrolment)
        return enrolment


def enrolment_complete(*, enrolment: Enrolment, actor) -> Enrolment:
    return state_transition(
        enrolment,
        to=Enrolment.Status.COMPLETED,
        allowed_from=[Enrolment.Status.ACTIVE],
        actor=actor,
        action="completed",
    )


def enrolment_withdraw(*, enrolment: Enrolment, actor, reason: str = "") -> Enrolment:
    return state_transition(
        enrolment,
        to=Enrolment.Status.WITHDRAWN,
        allowed_from=[Enrolment.Status.INVITED, Enrolment.Status.ACTIVE],
        actor=actor,
        action="withdrawn",
        note=reason,
    )


def milestones_stamp(*, enrolment: Enrolment) -> list[Milestone]:
    """Create the enrolment's milestones from its cohort's plan; steps already there are kept."""
    cohort = enrolment.cohort
    existing = set(enrolment.milestones.values_list("title", flat=True))
    created = [
        Milestone(
            enrolment=enrolment,
            title=item.title,
            description=item.description,
            due_date=item.due_date_for(cohort),
        )
        for item in cohort.plan_items.all()
        if item.title not in existing
    ]
    return Milestone.objects.bulk_create(created)


@transaction.atomic
def milestone_add(
    *,
    enrolment: Enrolment,
    title: str,
    due_date: datetime.date,
    description: str = "",
    actor,
) -> Milestone:
    """A one-off milestone beside the ones the cohort's plan stamped."""
    milestone = Milestone(
        enrolment=enrolment, title=title, due_date=due_date, description=description
    )
    milestone.full_clean()
    milestone.save()
    audit_record(actor=actor, obj=milestone, action="created", to_state=milestone.status)
    return milestone


def progress_update_submit(
    *, milestone: Milestone, author, body: str, link: str = "", attachment=None
) -> ProgressUpdate:
    """A creator reports progress on a milestone, which then awaits staff review.
    `attachment` must already be content-checked (`changemakers.core.uploads.attachment_check`)."""
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=milestone.enrolment_id)
        if enrolment.status != Enrolment.Status.ACTIVE:
            raise ValidationError(
                _("Progress can be reported only while the place in the cohort is active."),
                code="enrolment_not_active",
            )
        update = ProgressUpdate(
            milestone=milestone, author=author, body=body, link=link, attachment=attachment or ""
        )
        update.full_clean()
        update.save()
        try:
            state_transition(
                milestone,
                to=Milestone.Status.SUBMITTED,
                allowed_from=[Milestone.Status.PENDING, Milestone.Status.CHANGES_REQUESTED],
                actor=author,
                action="submitted",
            )
        except ValidationError:
            # The row is rolled back; the file it stored must not outlive it.
            if update.attachment:
                update.attachment.storage.delete(update.attachment.name)
            raise
        return update


def _milestone_review(*, milestone: Milestone, to: str, action: str, actor, feedback: str):
    """Move a submitted milestone on; the creator is emailed the outcome once it commits
    (and only when it really moved, so a double click sends one email)."""
    from .tasks import send_milestone_review

    with transaction.atomic():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if locked.status == to:
            return locked
        reviewed = state_transition(
            locked,
            to=to,
            allowed_from=[Milestone.Status.SUBMITTED],
            actor=actor,
            action=action,
            note=feedback,
            changes={"feedback": feedback},
        )
        send_milestone_review.delay_on_commit(reviewed.pk)
        return reviewed


def milestone_approve(*, milestone: Milestone, actor, feedback: str = "") -> Milestone:
    return _milestone_review(
        milestone=milestone,
        to=Milestone.Status.APPROVED,
        action="approved",
        actor=actor,
        feedback=feedback,
    )


def milestone_request_changes(*, milestone: Milestone, actor, feedback: str) -> Milestone:
    if not feedback.strip():
        raise ValidationError(
            _("Say what should change, so the creator knows what to do."), code="feedback_empty"
        )
    return _milestone_review(
        milestone=milestone,
        to=Milestone.Status.CHANGES_REQUESTED,
        action="changes_requested",
        actor=actor,
        feedback=feedback,
    )


def _creator_email(creator: Creator) -> str:
    user = creator.user
    return (user.email or "") if user is not None and user.is_active else ""


def milestone_review_email(*, milestone: Milestone) -> bool:
    """Tell the creator the outcome of a review, in their language (from the task)."""
    creator = milestone.enrolment.creator
    to = _creator_email(creator)
    if not to or milestone.status not in (
        Milestone.Status.APPROVED,
        Milestone.Status.CHANGES_REQUESTED,
    ):
        return False
    email_send(
        to=[to],
        template="programs/email/milestone_review",
        language=creator.language,
        context={
            "creator": creator,
            "milestone": milestone,
            "approved": milestone.status == Milestone.Status.APPROVED,
            "link": absolute_url(milestone.get_portal_url()),
        },
    )
    return True


# --- Staff inviting a new creator straight into a cohort ------------------------------------


def creator_onboard(
    *,
    cohort: Cohort,
    email: str,
    actor,
    creator: Creator | None = None,
    mission: str = "",
    note: str = "",
    **creator_fields,
) -> Enrolment:
    """Invite a creator into a cohort by email: an existing creator, or a new one made from
    `creator_fields`. Their place is offered, and the portal invitation (account and link)
    is emailed once everything commits. All or nothing."""
    with transaction.atomic():
        if creator is None:
            creator = creator_create(actor=actor, **creator_fields)
        enrolment = enrolment_invite(cohort=cohort, creator=creator, mission=mission, actor=actor)
        if creator.user_id is None or not creator.user.has_usable_password():
            creator_invitation_send(creator=creator, email=email, actor=actor, note=note)
        return enrolment


# --- Applications ---------------------------------------------------------------------------


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
    from .tasks import send_application_declined

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
        send_application_declined.delay_on_commit(declined.pk)
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


# --- Milestone reminders --------------------------------------------------------------------


def program_today() -> datetime.date:
    """Today's date where the program runs: due dates are calendar days there."""
    return timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE))


def _reminders_due(today: datetime.date) -> list[tuple[int, str]]:
    """(milestone id, kind) for every reminder that should have gone out by `today` and has
    not been claimed yet. Open milestones of active enrolments only."""
    soon = today + datetime.timedelta(days=settings.MILESTONE_REMINDER_DAYS_BEFORE)
    base = Milestone.objects.open().of_active_enrolments()
    windows = {
        MilestoneReminder.Kind.DUE_SOON: base.filter(due_date__gt=today, due_date__lte=soon),
        MilestoneReminder.Kind.DUE_TODAY: base.filter(due_date=today),
        MilestoneReminder.Kind.OVERDUE: base.filter(due_date__lt=today),
    }
    due = []
    for kind, milestones in windows.items():
        ids = milestones.exclude(reminders__kind=kind).order_by("pk").values_list("pk", flat=True)
        due.extend((pk, kind) for pk in ids)
    return due


def _reminder_kind_now(milestone: Milestone, today: datetime.date) -> str | None:
    """The reminder kind the milestone's window calls for `today`, or None if it calls for
    none (not open, its enrolment no longer active, or due later than the due-soon window).
    The same windows `_reminders_due` claims from."""
    if not (milestone.is_open and milestone.enrolment.status == Enrolment.Status.ACTIVE):
        return None
    if milestone.due_date < today:
        return MilestoneReminder.Kind.OVERDUE
    if milestone.due_date == today:
        return MilestoneReminder.Kind.DUE_TODAY
    soon = today + datetime.timedelta(days=settings.MILESTONE_REMINDER_DAYS_BEFORE)
    if milestone.due_date <= soon:
        return MilestoneReminder.Kind.DUE_SOON
    return None


def _reminder_claim(*, milestone_id: int, kind: str) -> MilestoneReminder | None:
    """Insert the reminder row, or None if another run already has. On PostgreSQL a
    concurrent insert of the same (milestone, kind) waits for the first and then fails."""
    try:
        with transaction.atomic():
            return MilestoneReminder.objects.create(milestone_id=milestone_id, kind=kind)
    except IntegrityError:
        return None


def milestone_reminder_deliver(*, reminder_id: int, today: datetime.date | None = None) -> bool:
    """Send one claimed reminder, holding its row lock while sending, so two workers never
    both send it; marked sent only once the email has gone. Returns whether it sent.
    A reminder that no longer fits its milestone `today` (a due-soon one whose email failed,
    now that the milestone is due today; a milestone closed or an enrolment withdrawn since)
    is marked skipped instead: stale reminders never go out."""
    today = today or program_today()
    with transaction.atomic():
        reminder = (
            MilestoneReminder.objects.select_for_update(skip_locked=True)
            .filter(pk=reminder_id, status=MilestoneReminder.Status.PENDING)
            .first()
        )
        if reminder is None:
            return False
        milestone = (
            Milestone.objects.select_related("enrolment__creator__user", "enrolment__cohort")
            .filter(pk=reminder.milestone_id)
            .first()
        )
        creator = milestone.enrolment.creator
        to = _creator_email(creator)
        still_needed = _reminder_kind_now(milestone, today) == reminder.kind
        if not (to and still_needed):
            reminder.status = MilestoneReminder.Status.SKIPPED
            reminder.save(update_fields=["status"])
            return False
        email_send(
            to=[to],
            template="programs/email/milestone_reminder",
            language=creator.language,
            context={
                "creator": creator,
                "milestone": milestone,
                "kind": reminder.kind,
                "link": absolute_url(milestone.get_portal_url()),
            },
        )
        reminder.status = MilestoneReminder.Status.SENT
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["status", "sent_at"])
        return True


def milestone_reminders_send(*, today: datetime.date | None = None) -> int:
    """The daily job: claim every reminder now due, then send each claimed one still pending
    (those of this run, and any an earlier run claimed but could not send, unless its window
    has passed). Each kind goes out once per milestone however often, and on however many
    workers, this runs."""
    today = today or program_today()
    for milestone_id, kind in _reminders_due(today):
        _reminder_claim(milestone_id=milestone_id, kind=kind)
    pending = MilestoneReminder.objects.filter(status=MilestoneReminder.Status.PENDING).values_list(
        "pk", flat=True
    )
    sent = 0
    for reminder_id in list(pending):
        try:
            sent += milestone_reminder_deliver(reminder_id=reminder_id, today=today)
        except OSError:  # the mail server: the row stays pending for the next run
            logger.exception("Milestone reminder %s could not be sent", reminder_id)
    return sent


def staff_digest_send(*, today: datetime.date | None = None) -> bool:
    """The weekly email to staff: overdue milestones and updates awaiting review. Each staff
    address is claimed once per week (a StaffDigestDelivery row) and sent under that row's
    lock, on its own: a failing send leaves only that address unsent, and a repeated or
    concurrent run sends only the copies not sent yet. Returns whether this run sent any."""
    today = today or program_today()
    week = today - datetime.timedelta(days=today.weekday())
    try:
        with transaction.atomic():
            StaffDigest.objects.create(week=week)
    except IntegrityError:
        pass
    digest = StaffDigest.objects.get(week=week)
    staff = list(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    for address in staff:
        try:
            with transaction.atomic():
                StaffDigestDelivery.objects.create(digest=digest, email=address)
        except IntegrityError:
            pass  # claimed by an earlier or concurrent run
    unsent = list(digest.deliveries.filter(sent_at__isnull=True).values_list("pk", flat=True))
    if not unsent:
        return False
    context = {
        "week": week,
        "today": today,
        "overdue": list(
            Milestone.objects.overdue(today)
            .of_active_enrolments()
            .with_people()
            .order_by("due_date", "enrolment__creator__display_name")
        ),
        "awaiting": list(Milestone.objects.awaiting_review().with_people().order_by("updated_at")),
        "site_url": absolute_url(""),
        "reviews_link": absolute_url(reverse("programs:review-list")),
    }
    sent = 0
    for delivery_id in unsent:
        try:
            sent += _staff_digest_deliver(delivery_id=delivery_id, context=context)
        except OSError:  # the mail server: this copy stays unsent for the next run
            logger.exception("Staff digest delivery %s could not be sent", delivery_id)
    if sent:
        with transaction.atomic():
            locked = StaffDigest.objects.select_for_update().get(pk=digest.pk)
            locked.recipients = locked.deliveries.filter(sent_at__isnull=False).count()
            locked.sent_at = timezone.now()
            locked.save(update_fields=["recipients", "sent_at"])
    return sent > 0


def _staff_digest_deliver(*, delivery_id: int, context: dict) -> bool:
    """Send one claimed copy of the digest, holding its row lock while sending so two
    workers never both send it; marked sent only once the email has gone."""
    with transaction.atomic():
        delivery = (
            StaffDigestDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, sent_at__isnull=True)
            .first()
        )
        if delivery is None:
            return False
        email_send(
            to=[delivery.email],
            template="programs/email/staff_digest",
            language=settings.LANGUAGE_CODE,
            context=context,
        )
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["sent_at"])
        return True
