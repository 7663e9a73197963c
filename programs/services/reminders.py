"""The program's scheduled emails: milestone reminders to creators (each at 09:00 in the
creator's own time zone), escalations of long-overdue milestones to their program manager, and
the digest to staff (weekly). Each is claimed once in the database and sent under its row's
lock, so a repeated or concurrent run never sends one twice."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from changemakers.core.emails import absolute_url, email_send
from changemakers.core.timezones import preferences_of, time_zone_of
from changemakers.core.zones import program_time_zone

from ..clock import program_today, reminder_day
from ..models import Enrolment, Milestone, MilestoneReminder, StaffDigest, StaffDigestDelivery
from .milestones import creator_email_address

logger = logging.getLogger(__name__)


def _reminders_due(today: datetime.date, zones: list[str] | None = None) -> list[tuple[int, str]]:
    """(milestone id, kind) for every reminder that should have gone out by `today` and has
    not been claimed yet. Open milestones of active enrolments only; of creators living in
    one of `zones` when given."""
    soon = today + datetime.timedelta(days=settings.MILESTONE_REMINDER_DAYS_BEFORE)
    base = Milestone.objects.open().of_active_enrolments()
    if zones is not None:
        base = _with_creator_zone(base).filter(creator_zone__in=zones)
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


def _with_creator_zone(milestones):
    """Each milestone with its creator's time zone (`creator_zone`): their account's, or the
    program's for a creator without an account (nobody to email then anyway)."""
    return milestones.annotate(
        creator_zone=Coalesce(
            F("enrolment__creator__user__preferences__time_zone"), Value(program_time_zone())
        )
    )


def _reminder_days(now: datetime.datetime) -> dict[datetime.date, list[str]]:
    """The program day each creator with an open milestone is reminded about now (their
    zone's latest 09:00), as {day: [zones]}: at any moment the world is on two or three."""
    open_milestones = Milestone.objects.open().of_active_enrolments()
    # Accounts from before time zones existed get theirs now, guessed from their country.
    for user in get_user_model().objects.filter(
        pk__in=open_milestones.filter(
            enrolment__creator__user__isnull=False,
            enrolment__creator__user__preferences__isnull=True,
        ).values("enrolment__creator__user")
    ):
        preferences_of(user)
    zones = (
        _with_creator_zone(open_milestones)
        .order_by()
        .values_list("creator_zone", flat=True)
        .distinct()
    )
    days: dict[datetime.date, list[str]] = {}
    for zone in zones:
        try:
            day = reminder_day(zone, now)
        except (ValueError, KeyError):  # a zone gone from the tz database: the program's
            day = reminder_day(program_time_zone(), now)
        days.setdefault(day, []).append(zone)
    return days


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


def milestone_reminder_deliver(
    *, reminder_id: int, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> bool:
    """Send one claimed reminder, holding its row lock while sending, so two workers never
    both send it; marked sent only once the email has gone. Returns whether it sent.
    A reminder that no longer fits its milestone on the creator's reminder day (`today`, or
    the program day of their latest 09:00 at `now`): a due-soon one whose email failed, now
    that the milestone is due today; a milestone closed or an enrolment withdrawn since; is
    marked skipped instead: stale reminders never go out."""
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
        to = creator_email_address(creator)
        zone = time_zone_of(creator.user) if creator.user_id else program_time_zone()
        try:
            day = today or reminder_day(zone, now)
        except (ValueError, KeyError):  # a zone gone from the tz database: the program's
            day = reminder_day(program_time_zone(), now)
        still_needed = _reminder_kind_now(milestone, day) == reminder.kind
        if not (to and still_needed):
            reminder.status = MilestoneReminder.Status.SKIPPED
            reminder.save(update_fields=["status"])
            return False
        email_send(
            to=[to],
            template="programs/email/milestone_reminder",
            language=creator.language,
            time_zone=zone,
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


def milestone_reminders_send(
    *, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> int:
    """The quarter-hourly job: claim every reminder now due, each creator's once 09:00 has
    come in their own time zone, then send each claimed one still pending (those of this
    run, and any an earlier run claimed but could not send, unless its window has passed).
    Each kind goes out once per milestone however often, and on however many workers, this
    runs. `today` counts every creator's windows from that program day at once (a re-run
    by hand, tests)."""
    if today is not None:
        due = _reminders_due(today)
    else:
        now = now or timezone.now()
        due = [
            pair
            for day, zones in _reminder_days(now).items()
            for pair in _reminders_due(day, zones)
        ]
    for milestone_id, kind in due:
        _reminder_claim(milestone_id=milestone_id, kind=kind)
    pending = MilestoneReminder.objects.filter(status=MilestoneReminder.Status.PENDING).values_list(
        "pk", flat=True
    )
    sent = 0
    for reminder_id in list(pending):
        try:
            sent += milestone_reminder_deliver(reminder_id=reminder_id, today=today, now=now)
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
