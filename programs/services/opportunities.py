"""Opportunities: staff create, publish, change and cancel them; creators and nonprofit contacts
sign up and withdraw; staff mark who attended; everyone signed up is reminded the day before,
and told if it is cancelled.

Places are counted under a lock on the opportunity's row, so two people taking the last place
at once cannot both get it; the database holds one sign-up per person and opportunity."""

import datetime
import logging
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, fields_update, state_transition
from changemakers.core.emails import absolute_url, email_language_of, email_send
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.roles import Role, permission_require, role_of
from changemakers.core.timezones import time_zone_of
from changemakers.core.zones import program_time_zone
from creators.models import creator_of

from ..clock import program_today
from ..models import Opportunity, OpportunitySignup

logger = logging.getLogger(__name__)

MANAGE = "programs.manage_opportunity"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# What staff write: the translated texts in every language, and the rest once.
OPPORTUNITY_FIELDS = (
    *(f"{name}_{code}" for name in ("title", "description") for code in LANGUAGES),
    "kind",
    "audience",
    "starts_at",
    "place",
    "link",
    "capacity",
    "signups_close_on",
)
# Who may take a place in an opportunity meant for whom.
AUDIENCES = {
    Role.CREATOR: (Opportunity.Audience.CREATORS, Opportunity.Audience.BOTH),
    Role.NONPROFIT: (Opportunity.Audience.NONPROFITS, Opportunity.Audience.BOTH),
}
SIGNUP_ROLES = {
    Role.CREATOR: OpportunitySignup.Role.CREATOR,
    Role.NONPROFIT: OpportunitySignup.Role.NONPROFIT,
}
# Where each kind of person finds their opportunities (the links in their emails).
PORTAL_PAGES = {
    OpportunitySignup.Role.CREATOR: "programs:portal-opportunity-list",
    OpportunitySignup.Role.NONPROFIT: "nonprofit:opportunity-list",
}
# The reminder job looks this far ahead: the day before at 09:00 somewhere is never more than
# two days before the start (the first zone's morning, the last zone's evening).
REMINDER_HORIZON = datetime.timedelta(days=2)


def _check(opportunity: Opportunity) -> None:
    """What the model cannot say alone: sign-ups close on or before the program day it takes
    place, and a new date is in the future."""
    opportunity.full_clean()
    start_day = timezone.localdate(opportunity.starts_at, zoneinfo.ZoneInfo(program_time_zone()))
    if opportunity.signups_close_on > start_day:
        raise ValidationError(
            {"signups_close_on": _("Sign-ups must close on or before the day it takes place.")},
            code="closes_after_start",
        )


def _fields(fields: dict) -> dict:
    values = {name: fields[name] for name in OPPORTUNITY_FIELDS if name in fields}
    for name in ("place", "link", *(f"description_{code}" for code in LANGUAGES)):
        if name in values and values[name] is None:
            values[name] = ""
    for code in LANGUAGES[1:]:  # a language left empty reads the English
        for name in ("title", "description"):
            key = f"{name}_{code}"
            if key in values and not values[key]:
                values[key] = None
    return values


# --- Staff -------------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(*, actor, **fields) -> Opportunity:
    """A new opportunity, as a draft nobody but staff sees until it is published."""
    permission_require(actor, MANAGE, doing=_("publish opportunities"))
    opportunity = Opportunity(created_by=actor, **_fields(fields))
    if opportunity.starts_at and opportunity.starts_at <= timezone.now():
        raise ValidationError(
            {"starts_at": _("Choose a date and time in the future.")}, code="in_the_past"
        )
    _check(opportunity)
    opportunity.save()
    audit_record(actor=actor, obj=opportunity, action="created", to_state=opportunity.status)
    return opportunity


def opportunity_update(*, opportunity: Opportunity, actor, **fields) -> list[str]:
    """Change an opportunity that is not cancelled. Its places cannot drop below those taken;
    a new date means everyone signed up is reminded again, the day before the new date."""
    permission_require(actor, MANAGE, doing=_("change opportunities"))
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if locked.status == Opportunity.Status.CANCELLED:
            raise ValidationError(
                _("A cancelled opportunity can no longer be changed."), code="cancelled"
            )
        values = _fields(fields)
        taken = locked.signups.current().count()
        if values.get("capacity") is not None and values["capacity"] < taken:
            raise ValidationError(
                {
                    "capacity": _("%(taken)s people have signed up; the places cannot be fewer.")
                    % {"taken": taken}
                },
                code="capacity_below_taken",
            )
        moved = "starts_at" in values and values["starts_at"] != locked.starts_at
        if moved and values["starts_at"] <= timezone.now():
            raise ValidationError(
                {"starts_at": _("Choose a date and time in the future.")}, code="in_the_past"
            )
        for name, value in values.items():
            setattr(locked, name, value)
        _check(locked)
        locked.refresh_from_db(fields=list(values))
        changed = fields_update(locked=locked, values=values, actor=actor)
        if moved:
            locked.signups.current().update(reminder_sent_at=None)
        return changed


def opportunity_publish(*, opportunity: Opportunity, actor) -> Opportunity:
    """Show a draft to the people it is meant for; they may sign up until sign-ups close."""
    permission_require(actor, MANAGE, doing=_("publish opportunities"))
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if locked.status == Opportunity.Status.DRAFT and locked.starts_at <= timezone.now():
            raise ValidationError(
                _("This opportunity's date has passed: change it before publishing."),
                code="in_the_past",
            )
        return state_transition(
            locked,
            to=Opportunity.Status.PUBLISHED,
            allowed_from=[Opportunity.Status.DRAFT],
            actor=actor,
            action="published",
            changes={"published_at": timezone.now()},
        )


def opportunity_cancel(*, opportunity: Opportunity, actor, reason: str) -> Opportunity:
    """Call an opportunity off, saying why: everyone signed up is emailed the reason, in their
    language, once the cancellation is committed."""
    permission_require(actor, MANAGE, doing=_("cancel opportunities"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Say why it is cancelled: the people signed up are told.")},
            code="reason_required",
        )
    with transaction.atomic():
        before = Opportunity.objects.select_for_update().get(pk=opportunity.pk).status
        cancelled = state_transition(
            opportunity,
            to=Opportunity.Status.CANCELLED,
            allowed_from=[Opportunity.Status.DRAFT, Opportunity.Status.PUBLISHED],
            actor=actor,
            action="cancelled",
            note=reason,
            changes={"cancel_reason": reason[:500], "cancelled_at": timezone.now()},
        )
        if before != Opportunity.Status.CANCELLED:
            for signup_id in cancelled.signups.current().values_list("pk", flat=True):
                enqueue_on_commit("programs.tasks.send_opportunity_cancellation", signup_id)
        return cancelled


def opportunity_attendance_mark(
    *, signup: OpportunitySignup, attended: bool | None, actor
) -> OpportunitySignup:
    """Record whether a person signed up came (None: not known yet)."""
    permission_require(actor, MANAGE, doing=_("mark attendance"))
    with transaction.atomic():
        locked = (
            OpportunitySignup.objects.select_for_update()
            .select_related("opportunity")
            .get(pk=signup.pk)
        )
        if locked.status != OpportunitySignup.Status.SIGNED_UP:
            raise ValidationError(
                _("%(name)s withdrew: there is no attendance to mark.") % {"name": locked.name},
                code="withdrawn",
            )
        if locked.opportunity.status != Opportunity.Status.PUBLISHED:
            raise ValidationError(
                _("Attendance is marked for published opportunities only."), code="not_published"
            )
        if locked.attended == attended:
            return locked
        before = locked.attended
        locked.attended = attended
        locked.save(update_fields=["attended", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="attendance_marked",
            from_state=_attendance(before),
            to_state=_attendance(attended),
        )
        return locked


def _attendance(value: bool | None) -> str:
    return {True: "attended", False: "absent", None: "unknown"}[value]


# --- The people it is for ------------------------------------------------------------------


def open_for_signup(opportunity: Opportunity) -> bool:
    """Published, sign-ups not closed (the program day), and not begun."""
    return (
        opportunity.status == Opportunity.Status.PUBLISHED
        and program_today() <= opportunity.signups_close_on
        and timezone.now() < opportunity.starts_at
    )


def _person_check(*, opportunity: Opportunity, person, actor) -> str:
    """The person's sign-up role, if they sign themselves up to something meant for them."""
    if actor is None or person is None or actor.pk != person.pk:
        raise ValidationError(
            _("People sign up and withdraw for themselves only."), code="not_yourself"
        )
    role = role_of(person)
    if role not in AUDIENCES or opportunity.audience not in AUDIENCES[role]:
        raise ValidationError(_("This opportunity is not meant for you."), code="not_for_you")
    return SIGNUP_ROLES[role]


def opportunity_signup(
    *, opportunity: Opportunity, person, actor, organisation: str = ""
) -> OpportunitySignup:
    """`person` takes a place (signing up again after withdrawing takes one back). Refused
    when it is full, closed, not published, or not meant for them. Signing up twice is one
    sign-up. `organisation`: the nonprofit a contact signs up for, as staff see it."""
    role = _person_check(opportunity=opportunity, person=person, actor=actor)
    with transaction.atomic():
        # The opportunity's row lock makes the count below the truth until commit: a second
        # person taking the last place waits here, then finds it taken.
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        existing = OpportunitySignup.objects.filter(opportunity=locked, user=person).first()
        if existing is not None and existing.status == OpportunitySignup.Status.SIGNED_UP:
            return existing
        if locked.status != Opportunity.Status.PUBLISHED:
            raise ValidationError(
                _("This opportunity is not open for sign-ups."), code="not_published"
            )
        if not open_for_signup(locked):
            raise ValidationError(_("Sign-ups for this opportunity are closed."), code="closed")
        if locked.signups.current().count() >= locked.capacity:
            raise ValidationError(_("This opportunity is full."), code="full")
        name = _name_of(person)
        if existing is None:
            signup = OpportunitySignup(
                opportunity=locked, user=person, role=role, name=name, organisation=organisation
            )
            signup.full_clean(validate_constraints=False)
            signup.save()
            from_state = ""
        else:
            signup, from_state = existing, existing.status
            signup.status = OpportunitySignup.Status.SIGNED_UP
            signup.name, signup.organisation = name, organisation
            signup.save(update_fields=["status", "name", "organisation", "updated_at"])
        audit_record(
            actor=actor,
            obj=signup,
            action="signed_up",
            from_state=from_state,
            to_state=signup.status,
        )
        return signup


def opportunity_withdraw(*, opportunity: Opportunity, person, actor) -> OpportunitySignup | None:
    """`person` gives their place back (it is free for someone else at once). Nothing to do
    if they hold none; refused once the opportunity has begun."""
    if actor is None or person is None or actor.pk != person.pk:
        raise ValidationError(
            _("People sign up and withdraw for themselves only."), code="not_yourself"
        )
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        signup = (
            OpportunitySignup.objects.select_for_update()
            .filter(opportunity=locked, user=person)
            .first()
        )
        if signup is None or signup.status == OpportunitySignup.Status.WITHDRAWN:
            return signup
        if timezone.now() >= locked.starts_at:
            raise ValidationError(
                _("This opportunity has begun: there is nothing to withdraw from."),
                code="begun",
            )
        signup.status = OpportunitySignup.Status.WITHDRAWN
        signup.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            obj=signup,
            action="withdrawn",
            from_state=OpportunitySignup.Status.SIGNED_UP,
            to_state=signup.status,
        )
        return signup


def _name_of(user) -> str:
    creator = creator_of(user)
    if creator is not None:
        return creator.display_name
    return user.get_full_name() or user.email or user.get_username()


# --- Emails ------------------------------------------------------------------------------------


def _zone_of(user) -> str:
    zone = time_zone_of(user)
    try:
        zoneinfo.ZoneInfo(zone)
    except (ValueError, KeyError, zoneinfo.ZoneInfoNotFoundError):
        return program_time_zone()
    return zone


def _reminder_window(
    starts_at: datetime.datetime, zone: str
) -> tuple[datetime.datetime, datetime.date]:
    """When the reminder is due for someone in `zone` (09:00 there, the day before the
    opportunity's date there), and that day: it goes out between the two, never later."""
    tz = zoneinfo.ZoneInfo(zone)
    day_before = starts_at.astimezone(tz).date() - datetime.timedelta(days=1)
    hour = datetime.time(settings.MILESTONE_REMINDER_HOUR)
    return datetime.datetime.combine(day_before, hour, tzinfo=tz), day_before


def _reminder_due(signup: OpportunitySignup, zone: str, now: datetime.datetime) -> bool:
    opportunity = signup.opportunity
    if (
        signup.status != OpportunitySignup.Status.SIGNED_UP
        or signup.reminder_sent_at is not None
        or opportunity.status != Opportunity.Status.PUBLISHED
        or now >= opportunity.starts_at
    ):
        return False
    due_from, day_before = _reminder_window(opportunity.starts_at, zone)
    return due_from <= now and now.astimezone(zoneinfo.ZoneInfo(zone)).date() == day_before


def opportunity_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """The quarter-hourly job: every sign-up whose reminder is due now (09:00 the day before,
    where the person lives) gets a task that sends it, queued once this run commits. A task
    lost on the way is queued again by the next run, since only sending marks a reminder
    sent; one queued twice sends once. Returns how many it queued."""
    now = now or timezone.now()
    candidates = (
        OpportunitySignup.objects.current()
        .filter(
            reminder_sent_at__isnull=True,
            opportunity__status=Opportunity.Status.PUBLISHED,
            opportunity__starts_at__gt=now,
            opportunity__starts_at__lte=now + REMINDER_HORIZON,
        )
        .select_related("opportunity", "user")
        .order_by("pk")
    )
    queued = 0
    with transaction.atomic():
        for signup in candidates:
            if _reminder_due(signup, _zone_of(signup.user), now):
                enqueue_on_commit("programs.tasks.send_opportunity_reminder", signup.pk)
                queued += 1
    return queued


def opportunity_reminder_deliver(*, signup_id: int, now: datetime.datetime | None = None) -> bool:
    """Send one sign-up's reminder if it is still due, holding the sign-up's row lock while
    sending so two workers never both send it; marked sent once the email has gone."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = (
            OpportunitySignup.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("opportunity", "user")
            .filter(pk=signup_id, reminder_sent_at__isnull=True)
            .first()
        )
        if signup is None or not signup.user.email:
            return False
        zone = _zone_of(signup.user)
        if not _reminder_due(signup, zone, now):
            return False
        _email(signup, template="programs/email/opportunity_reminder", zone=zone)
        signup.reminder_sent_at = timezone.now()
        signup.save(update_fields=["reminder_sent_at"])
        return True


def opportunity_cancellation_email(*, signup_id: int) -> bool:
    """Tell one person signed up that the opportunity is cancelled, and why; once."""
    with transaction.atomic():
        signup = (
            OpportunitySignup.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("opportunity", "user")
            .filter(pk=signup_id, cancellation_sent_at__isnull=True)
            .first()
        )
        if (
            signup is None
            or not signup.user.email
            or signup.opportunity.status != Opportunity.Status.CANCELLED
            or signup.status != OpportunitySignup.Status.SIGNED_UP
        ):
            return False
        _email(signup, template="programs/email/opportunity_cancelled", zone=_zone_of(signup.user))
        signup.cancellation_sent_at = timezone.now()
        signup.save(update_fields=["cancellation_sent_at"])
        return True


def _email(signup: OpportunitySignup, *, template: str, zone: str) -> None:
    email_send(
        to=[signup.user.email],
        template=template,
        language=email_language_of(signup.user),
        time_zone=zone,
        context={
            "signup": signup,
            "opportunity": signup.opportunity,
            "link": absolute_url(reverse(PORTAL_PAGES[signup.role])),
        },
    )
