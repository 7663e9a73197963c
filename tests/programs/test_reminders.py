"""Milestone reminders and the staff digest: the right kind on the right day in the program's
timezone, once per milestone and kind however often or concurrently the job runs, in the
creator's language, with a link to the milestone."""

import datetime
import smtplib
import threading

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from changemakers.beat import BEAT_SCHEDULE
from changemakers.core.timezones import preferences_update
from creators.models import Creator
from programs.clock import program_today
from programs.models import Milestone, MilestoneReminder, StaffDigest, StaffDigestDelivery
from programs.services import (
    milestone_reminders_send,
    progress_update_submit,
    staff_digest_send,
)
from programs.tasks import send_milestone_reminders, send_staff_digest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The default plan's kickoff is due 15 September 2026 for a cohort starting 1 September.
KICKOFF_DUE = datetime.date(2026, 9, 15)


def kinds_sent() -> list[tuple[str, str]]:
    return sorted(
        MilestoneReminder.objects.filter(status="sent").values_list("milestone__title", "kind")
    )


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2026, 9, 7), []),  # eight days before: nothing yet
        (datetime.date(2026, 9, 8), [("Kickoff", "due_soon")]),  # a week before
        (KICKOFF_DUE, [("Kickoff", "due_today")]),
        (datetime.date(2026, 9, 16), [("Kickoff", "overdue")]),
    ],
)
def test_each_reminder_goes_out_on_its_day(enrolment, today, expected):
    milestone_reminders_send(today=today)
    assert kinds_sent() == expected
    assert len(mail.outbox) == len(expected)


def test_the_same_kind_goes_out_once_however_often_the_job_runs(enrolment, creator_user):
    for _run in range(3):
        milestone_reminders_send(today=datetime.date(2026, 9, 8))
    milestone_reminders_send(today=datetime.date(2026, 9, 10))  # still within the week
    assert kinds_sent() == [("Kickoff", "due_soon")]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [creator_user.email]
    assert message.subject == "“Kickoff” is due in a week"
    kickoff = enrolment.milestones.get(title="Kickoff")
    assert f"http://127.0.0.1:8000{kickoff.get_portal_url()}" in message.body

    milestone_reminders_send(today=KICKOFF_DUE)
    milestone_reminders_send(today=KICKOFF_DUE)
    milestone_reminders_send(today=datetime.date(2026, 9, 20))
    milestone_reminders_send(today=datetime.date(2026, 9, 21))
    assert kinds_sent() == [
        ("Kickoff", "due_soon"),
        ("Kickoff", "due_today"),
        ("Kickoff", "overdue"),
    ]
    assert len(mail.outbox) == 3


def test_a_submitted_milestone_gets_no_more_reminders(enrolment, creator_user):
    kickoff = enrolment.milestones.get(title="Kickoff")
    progress_update_submit(milestone=kickoff, author=creator_user, body="Done early.")
    milestone_reminders_send(today=KICKOFF_DUE)
    milestone_reminders_send(today=datetime.date(2026, 9, 30))
    assert mail.outbox == []


def test_changes_requested_counts_as_open_and_the_feedback_is_repeated(
    enrolment, creator_user, staff_user
):
    from programs.services import milestone_request_changes

    kickoff = enrolment.milestones.get(title="Kickoff")
    progress_update_submit(milestone=kickoff, author=creator_user, body="Done.")
    milestone_request_changes(milestone=kickoff, actor=staff_user, feedback="Add figures.")
    mail.outbox.clear()
    milestone_reminders_send(today=datetime.date(2026, 9, 16))
    assert len(mail.outbox) == 1
    assert "Add figures." in mail.outbox[0].body


def test_withdrawn_creators_get_no_reminders(enrolment, staff_user):
    from programs.services import enrolment_withdraw

    enrolment_withdraw(enrolment=enrolment, actor=staff_user)
    milestone_reminders_send(today=datetime.date(2026, 9, 16))
    assert mail.outbox == []


def test_a_reminder_that_could_not_be_sent_is_retried_on_the_next_run(enrolment, monkeypatch):
    from django.core.mail import EmailMessage

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    assert milestone_reminders_send(today=KICKOFF_DUE) == 0
    reminder = MilestoneReminder.objects.get()
    assert reminder.status == MilestoneReminder.Status.PENDING

    monkeypatch.undo()
    assert milestone_reminders_send(today=KICKOFF_DUE) == 1
    assert milestone_reminders_send(today=KICKOFF_DUE) == 0
    reminder.refresh_from_db()
    assert reminder.status == MilestoneReminder.Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("en", "“Kickoff” is due today", "Hello "),
        # The default plan's titles are written in every language: the French one here.
        ("fr", "« Lancement » est à rendre aujourd'hui", "Bonjour "),
    ],
)
def test_reminders_are_in_the_creators_language(enrolment, language, subject, greeting):
    Creator.objects.filter(pk=enrolment.creator_id).update(language=language)
    milestone_reminders_send(today=KICKOFF_DUE)
    assert mail.outbox[0].subject == subject
    assert mail.outbox[0].body.startswith(greeting)


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("en", "was due on Sept. 15, 2026"), ("fr", "était à rendre le 15 septembre 2026")],
)
def test_overdue_email_in_both_languages(enrolment, language, phrase):
    Creator.objects.filter(pk=enrolment.creator_id).update(language=language)
    milestone_reminders_send(today=datetime.date(2026, 9, 16))
    assert phrase in mail.outbox[0].body


def test_today_is_the_program_timezones_date(settings):
    settings.PROGRAM_TIME_ZONE = "Pacific/Auckland"  # UTC+12 in June
    with time_machine.travel(datetime.datetime(2026, 6, 1, 13, tzinfo=datetime.UTC), tick=False):
        assert program_today() == datetime.date(2026, 6, 2)
    settings.PROGRAM_TIME_ZONE = "America/Los_Angeles"  # UTC-7 in June
    with time_machine.travel(datetime.datetime(2026, 6, 1, 3, tzinfo=datetime.UTC), tick=False):
        assert program_today() == datetime.date(2026, 5, 31)


def test_the_task_uses_the_program_date_at_the_creators_morning(enrolment, settings):
    # 15 Sept 06:05 in UTC is 09:05 on the 15th in Nairobi, the program's and the creator's
    # zone: "due today" there (tests/programs/test_reminder_times.py has the other zones).
    settings.PROGRAM_TIME_ZONE = "Africa/Nairobi"
    preferences_update(
        user=enrolment.creator.user, actor=enrolment.creator.user, time_zone="Africa/Nairobi"
    )
    moment = datetime.datetime(2026, 9, 15, 6, 5, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        send_milestone_reminders.delay()
    assert kinds_sent() == [("Kickoff", "due_today")]


def test_the_job_queries_do_not_grow_per_milestone(enrolment, other_enrolment):
    """Finding what is due is a fixed number of queries; each reminder then costs a few."""
    with CaptureQueriesContext(connection) as queries:
        milestone_reminders_send(today=datetime.date(2026, 9, 1))
    assert len(mail.outbox) == 0
    assert len(queries) <= 6


def test_the_beat_schedule_runs_reminders_quarter_hourly_and_the_digest_weekly():
    # Quarter-hourly, so each creator's 09:00 is caught within 15 minutes wherever they live.
    reminders = BEAT_SCHEDULE["send-milestone-reminders"]
    assert reminders["task"] == "programs.tasks.send_milestone_reminders"
    assert reminders["schedule"].minute == {0, 15, 30, 45}
    assert len(reminders["schedule"].hour) == 24
    escalations = BEAT_SCHEDULE["escalate-overdue-milestones"]
    assert escalations["task"] == "programs.tasks.escalate_overdue_milestones"
    assert len(escalations["schedule"].hour) == 24
    digest = BEAT_SCHEDULE["send-staff-digest"]
    assert digest["task"] == "programs.tasks.send_staff_digest"
    assert digest["schedule"].day_of_week == {1}


# --- The weekly staff digest -----------------------------------------------------------------


def test_the_staff_digest_lists_overdue_and_awaiting_review_once_a_week(
    enrolment, other_enrolment, staff_user
):
    kickoff = other_enrolment.milestones.get(title="Kickoff")
    progress_update_submit(milestone=kickoff, author=staff_user, body="On their behalf.")
    monday = datetime.date(2026, 9, 21)

    assert staff_digest_send(today=monday) is True
    assert staff_digest_send(today=monday + datetime.timedelta(days=2)) is False  # same week

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [staff_user.email]
    assert message.subject == "Week of Sept. 21, 2026: 1 overdue milestone"
    assert enrolment.creator.display_name in message.body
    assert kickoff.get_review_url() in message.body
    assert StaffDigest.objects.get().recipients == 1

    send_staff_digest.delay()  # another week (today): a new digest
    assert StaffDigest.objects.count() == 2


# --- Real PostgreSQL: concurrent runs ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once(enrolment, other_enrolment):
    """Four workers run the daily job at the same moment; every milestone due that day gets
    exactly one email. The unique (milestone, kind) claim and the row lock decide it."""
    assert connection.vendor == "postgresql"
    today = datetime.date(2026, 9, 16)  # kickoffs overdue, nothing else
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            milestone_reminders_send(today=today)
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert kinds_sent() == [("Kickoff", "overdue"), ("Kickoff", "overdue")]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [enrolment.creator.user.email, other_enrolment.creator.user.email]
    )
    # And again, twice more, in sequence: nothing new.
    milestone_reminders_send(today=today)
    milestone_reminders_send(today=today)
    assert len(mail.outbox) == 2
    assert Milestone.objects.filter(reminders__isnull=False).count() == 2


# --- Review findings: stale reminders, per-recipient digest ---------------------------------


def test_a_stale_pending_due_soon_reminder_is_skipped_not_sent_on_the_due_day(enrolment):
    """A due-soon reminder whose email failed stays pending; on the due day it must not go
    out next to the due-today one."""
    kickoff = enrolment.milestones.get(title="Kickoff")
    stale = MilestoneReminder.objects.create(milestone=kickoff, kind="due_soon")

    assert milestone_reminders_send(today=KICKOFF_DUE) == 1

    stale.refresh_from_db()
    assert stale.status == MilestoneReminder.Status.SKIPPED
    assert stale.sent_at is None
    assert kinds_sent() == [("Kickoff", "due_today")]
    assert len(mail.outbox) == 1


def test_a_pending_reminder_of_a_withdrawn_enrolment_is_skipped(enrolment, staff_user):
    from programs.services import enrolment_withdraw

    kickoff = enrolment.milestones.get(title="Kickoff")
    pending = MilestoneReminder.objects.create(milestone=kickoff, kind="due_soon")
    enrolment_withdraw(enrolment=enrolment, actor=staff_user)

    assert milestone_reminders_send(today=datetime.date(2026, 9, 9)) == 0
    pending.refresh_from_db()
    assert pending.status == MilestoneReminder.Status.SKIPPED
    assert mail.outbox == []


class FailingForSomeEmailBackend(locmem.EmailBackend):
    """The test outbox, except that any message to an address in `failing` raises, as an
    SMTP server refusing it would."""

    failing: set[str] = set()

    def send_messages(self, email_messages):
        for message in email_messages:
            if self.failing & set(message.to):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No")})
        return super().send_messages(email_messages)


FAILING_MAILERS = {"default": {"BACKEND": f"{__name__}.{FailingForSomeEmailBackend.__qualname__}"}}


@override_settings(MAILERS=FAILING_MAILERS)
def test_one_failing_digest_address_does_not_lose_or_repeat_the_others(staff_user, monkeypatch):
    UserFactory(username="second@example.org", is_staff=True)
    UserFactory(username="third@example.org", is_staff=True)
    monkeypatch.setattr(FailingForSomeEmailBackend, "failing", {"second@example.org"})
    monday = datetime.date(2026, 9, 21)

    assert staff_digest_send(today=monday) is True
    assert sorted(m.to[0] for m in mail.outbox) == sorted([staff_user.email, "third@example.org"])
    assert StaffDigest.objects.get().recipients == 2

    # The mail server takes the last address now: a re-run sends only that one.
    monkeypatch.setattr(FailingForSomeEmailBackend, "failing", set())
    assert staff_digest_send(today=monday + datetime.timedelta(days=1)) is True
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [staff_user.email, "third@example.org", "second@example.org"]
    )
    assert StaffDigest.objects.get().recipients == 3
    assert StaffDigestDelivery.objects.filter(sent_at__isnull=True).count() == 0

    assert staff_digest_send(today=monday + datetime.timedelta(days=2)) is False
    assert len(mail.outbox) == 3
