"""Reminders at 09:00 in each creator's own zone, and escalation of long-overdue milestones.

The job runs every quarter of an hour; these tests run it on a mocked clock, quarter by
quarter, and look at when each reminder went out. The program runs on UTC here; the kickoff
milestone is due on 15 September 2026 (a program day: 00:00 to 24:00 UTC)."""

import datetime
import smtplib

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem

from changemakers.core.models import AuditEvent, Preferences
from changemakers.core.roles import StaffRole, staff_role_group
from changemakers.core.timezones import preferences_of, preferences_update
from programs.models import Milestone, MilestoneReminder
from programs.services import (
    milestone_approve,
    milestone_escalations_send,
    milestone_reminders_send,
    progress_update_submit,
)
from programs.tasks import escalate_overdue_milestones
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
KICKOFF_DUE = datetime.date(2026, 9, 15)


@pytest.fixture(autouse=True)
def _program_on_utc(settings):
    settings.PROGRAM_TIME_ZONE = settings.TIME_ZONE = "UTC"
    settings.MILESTONE_REMINDER_HOUR = 9
    settings.MILESTONE_ESCALATE_AFTER_DAYS = 7


def only_kickoff(enrolment) -> Milestone:
    """Keep the kickoff only, so each run's reminders are the kickoff's."""
    enrolment.milestones.exclude(title="Kickoff").delete()
    return enrolment.milestones.get()


def run_quarter_hourly(first: datetime.datetime, last: datetime.datetime) -> dict[str, list]:
    """Run the job every 15 minutes from `first` to `last` (UTC); {kind: [moments sent]}."""
    sent: dict[str, list] = {}
    moment = first
    while moment <= last:
        before = set(MilestoneReminder.objects.filter(status="sent").values_list("pk", flat=True))
        with time_machine.travel(moment, tick=False):
            milestone_reminders_send()
        for kind in (
            MilestoneReminder.objects.filter(status="sent")
            .exclude(pk__in=before)
            .values_list("kind", flat=True)
        ):
            sent.setdefault(kind, []).append(moment)
        moment += datetime.timedelta(minutes=15)
    return sent


@pytest.mark.parametrize(
    ("zone", "due_today_at", "overdue_at"),
    [
        # UTC+3: 09:00 in Nairobi is 06:00 UTC, on the due date itself.
        ("Africa/Nairobi", datetime.datetime(2026, 9, 15, 6, tzinfo=UTC), (2026, 9, 16, 6)),
        # UTC-7 (summer time): 09:00 in Vancouver is 16:00 UTC.
        ("America/Vancouver", datetime.datetime(2026, 9, 15, 16, tzinfo=UTC), (2026, 9, 16, 16)),
        # UTC+12: Auckland's 09:00 on the 15th is still the 14th for the program, so "due
        # today" waits for Auckland's next morning (the 16th, 09:00 = 21:00 UTC on the 15th,
        # three hours before the program's day ends); "overdue" comes a morning later.
        ("Pacific/Auckland", datetime.datetime(2026, 9, 15, 21, tzinfo=UTC), (2026, 9, 16, 21)),
    ],
)
def test_each_reminder_reaches_the_creator_at_nine_in_their_zone_once(
    enrolment, zone, due_today_at, overdue_at
):
    only_kickoff(enrolment)
    user = enrolment.creator.user
    preferences_update(user=user, actor=user, time_zone=zone)
    first, last = (datetime.datetime(2026, 9, day, 12, tzinfo=UTC) for day in (14, 17))
    sent = run_quarter_hourly(first, last)
    assert sent["due_today"] == [due_today_at]
    assert sent["overdue"] == [datetime.datetime(*overdue_at, tzinfo=UTC)]
    assert len(sent["due_soon"]) == 1  # already in its week when the runs began
    assert len(mail.outbox) == 3  # each kind once, however many runs
    assert all(message.to == [user.email] for message in mail.outbox)


def test_creators_in_different_zones_each_get_theirs_on_their_own_morning(
    enrolment, other_enrolment
):
    only_kickoff(enrolment)
    only_kickoff(other_enrolment)
    nairobi, vancouver = enrolment.creator.user, other_enrolment.creator.user
    preferences_update(user=nairobi, actor=nairobi, time_zone="Africa/Nairobi")
    preferences_update(user=vancouver, actor=vancouver, time_zone="America/Vancouver")
    for moment in (
        datetime.datetime(2026, 9, 14, 23, tzinfo=UTC),  # set the due-soon ones aside
        datetime.datetime(2026, 9, 15, 6, tzinfo=UTC),  # 09:00 Nairobi, 23:00 Vancouver
    ):
        mail.outbox.clear()
        with time_machine.travel(moment, tick=False):
            milestone_reminders_send()
    assert [(m.to, "due today" in m.subject) for m in mail.outbox] == [([nairobi.email], True)]
    mail.outbox.clear()
    with time_machine.travel(datetime.datetime(2026, 9, 15, 16, tzinfo=UTC), tick=False):
        milestone_reminders_send()
        milestone_reminders_send()  # a duplicate run sends nothing more
    assert [(m.to, "due today" in m.subject) for m in mail.outbox] == [([vancouver.email], True)]


def test_a_creator_without_a_zone_yet_gets_one_guessed_from_their_country(enrolment):
    """Accounts from before time zones get theirs on the first run: Kenya is Nairobi."""
    only_kickoff(enrolment)
    creator = enrolment.creator
    creator.country = "KE"
    creator.save(update_fields=["country"])
    Preferences.objects.filter(user=creator.user).delete()
    with time_machine.travel(datetime.datetime(2026, 9, 15, 5, 50, tzinfo=UTC), tick=False):
        milestone_reminders_send()  # 08:50 in Nairobi: the due-soon one only
    with time_machine.travel(datetime.datetime(2026, 9, 15, 6, tzinfo=UTC), tick=False):
        milestone_reminders_send()
    assert preferences_of(creator.user).time_zone == "Africa/Nairobi"
    assert MilestoneReminder.objects.filter(kind="due_today", status="sent").count() == 1


@pytest.mark.parametrize(
    ("due", "before_change", "after_change"),
    [
        # Summer time ends on Sunday 1 November 2026 in Vancouver: 09:00 was 16:00 UTC, then
        # 17:00 UTC.
        (datetime.date(2026, 11, 2), (2026, 11, 2, 16, 45), (2026, 11, 2, 17)),
        # It begins on Sunday 8 March 2026: 09:00 was 17:00 UTC, then 16:00 UTC.
        (datetime.date(2026, 3, 9), (2026, 3, 9, 15, 45), (2026, 3, 9, 16)),
    ],
)
def test_nine_oclock_follows_the_change_of_summer_time(enrolment, due, before_change, after_change):
    milestone = only_kickoff(enrolment)
    Milestone.objects.filter(pk=milestone.pk).update(due_date=due)
    user = enrolment.creator.user
    preferences_update(user=user, actor=user, time_zone="America/Vancouver")
    with time_machine.travel(datetime.datetime(*before_change, tzinfo=UTC), tick=False):
        milestone_reminders_send()
    assert not MilestoneReminder.objects.filter(kind="due_today").exists()
    with time_machine.travel(datetime.datetime(*after_change, tzinfo=UTC), tick=False):
        milestone_reminders_send()
    assert MilestoneReminder.objects.get(kind="due_today").status == "sent"


def test_the_email_shows_times_in_the_creators_zone_and_dates_as_the_programs(enrolment):
    only_kickoff(enrolment)
    user = enrolment.creator.user
    preferences_update(user=user, actor=user, time_zone="Pacific/Auckland")
    with time_machine.travel(datetime.datetime(2026, 9, 15, 21, tzinfo=UTC), tick=False):
        milestone_reminders_send()
    due_today = [m for m in mail.outbox if "due today" in m.subject]
    # 16 September in Auckland, but the due date is the program's calendar day.
    assert "Sept. 15, 2026" in due_today[0].body


# --- Escalation ---------------------------------------------------------------------------------


def escalated() -> list[str]:
    done = Milestone.objects.filter(escalated_at__isnull=False)
    return list(done.values_list("title", flat=True))


def test_a_milestone_overdue_past_the_set_days_is_escalated_to_its_manager_once(
    enrolment, staff_user
):
    only_kickoff(enrolment)
    cohort = enrolment.cohort
    assert cohort.manager == staff_user  # who created the cohort manages it
    assert milestone_escalations_send(today=datetime.date(2026, 9, 22)) == 0  # 7 days: not yet
    assert escalated() == []
    assert milestone_escalations_send(today=datetime.date(2026, 9, 23)) == 1  # 8 days
    assert milestone_escalations_send(today=datetime.date(2026, 9, 23)) == 0
    assert milestone_escalations_send(today=datetime.date(2026, 9, 30)) == 0
    assert escalated() == ["Kickoff"]
    assert [m.to for m in mail.outbox] == [[staff_user.email]]
    assert "8 days overdue" in mail.outbox[0].subject
    milestone = Milestone.objects.get()
    event = AuditEvent.objects.for_object(milestone).filter(action="escalated").get()
    assert event.actor is None
    assert staff_user.email in event.note


def test_the_setting_decides_after_how_many_days(enrolment, settings):
    only_kickoff(enrolment)
    settings.MILESTONE_ESCALATE_AFTER_DAYS = 2
    assert milestone_escalations_send(today=datetime.date(2026, 9, 18)) == 1


def test_escalation_email_is_in_the_managers_language_and_zone(enrolment, staff_user):
    only_kickoff(enrolment)
    preferences_update(user=staff_user, actor=staff_user, time_zone="Pacific/Auckland")
    with time_machine.travel(datetime.datetime(2026, 9, 23, 10, tzinfo=UTC), tick=False):
        milestone_escalations_send()
    body = mail.outbox[0].body
    assert "10 p.m. (NZST)" in body  # 10:00 UTC is 22:00 in Auckland
    assert "Sept. 15, 2026" in body


def test_without_a_manager_every_program_manager_is_told(enrolment):
    only_kickoff(enrolment)
    enrolment.cohort.manager = None
    enrolment.cohort.save(update_fields=["manager"])
    managers = [UserFactory(is_staff=True), UserFactory(is_staff=True)]
    UserFactory(is_staff=True)  # another role: not told
    for manager in managers:
        manager.groups.add(staff_role_group(StaffRole.PROGRAM_MANAGER))
    assert milestone_escalations_send(today=datetime.date(2026, 9, 30)) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in managers)


def test_a_milestone_done_or_submitted_is_not_escalated(enrolment, staff_user, creator_user):
    milestones = list(enrolment.milestones.order_by("due_date"))
    progress_update_submit(milestone=milestones[0], author=creator_user, body="Done")
    milestone_approve(milestone=milestones[0], actor=staff_user)
    progress_update_submit(milestone=milestones[1], author=creator_user, body="Waiting")
    milestone_escalations_send(today=datetime.date(2027, 3, 31))
    assert milestones[0].title not in escalated()
    assert milestones[1].title not in escalated()
    assert len(escalated()) == len(milestones) - 2


def test_a_failed_email_records_nothing_and_the_next_run_escalates(enrolment, monkeypatch):
    only_kickoff(enrolment)

    def down(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr(locmem.EmailBackend, "send_messages", down)
        assert milestone_escalations_send(today=datetime.date(2026, 9, 30)) == 0
    assert escalated() == []
    assert not AuditEvent.objects.filter(action="escalated").exists()
    assert milestone_escalations_send(today=datetime.date(2026, 9, 30)) == 1
    assert len(mail.outbox) == 1


def test_the_hourly_task_escalates_by_the_program_calendar(enrolment):
    only_kickoff(enrolment)
    with time_machine.travel(datetime.datetime(2026, 9, 23, 0, 5, tzinfo=UTC), tick=False):
        escalate_overdue_milestones.delay()
    assert escalated() == ["Kickoff"]


def test_staff_see_the_escalation_on_the_cohort_and_the_milestone(client, enrolment, staff_user):
    only_kickoff(enrolment)
    milestone_escalations_send(today=datetime.date(2026, 9, 30))
    client.force_login(staff_user)
    cohort_page = client.get(f"/staff/cohorts/{enrolment.cohort.pk}/").content.decode()
    assert "Escalated" in cohort_page
    milestone = Milestone.objects.get()
    review_page = client.get(milestone.get_review_url()).content.decode()
    assert "Escalated to the program manager on" in review_page
