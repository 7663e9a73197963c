"""The reminder the day before an opportunity: at 09:00 where each person lives, in their
language, once per sign-up however often the quarter-hourly job runs.

The program runs on UTC here. The opportunity is on 20 December 2026 at 15:00 UTC: 18:00 in
Nairobi (a creator reading French), 10:00 in New York (a nonprofit contact reading Spanish)."""

import datetime

import pytest
import time_machine
from django.core import mail

from changemakers.beat import BEAT_SCHEDULE
from changemakers.core.timezones import preferences_update
from programs.models import Opportunity, OpportunitySignup
from programs.services import (
    opportunity_reminder_deliver,
    opportunity_reminders_send,
    opportunity_signup,
    opportunity_update,
    opportunity_withdraw,
)
from programs.tasks import send_opportunity_reminders
from tests.factories import NonprofitContactFactory
from tests.programs.opportunities import make_opportunity, program_manager

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
STARTS = datetime.datetime(2026, 12, 20, 15, 0, tzinfo=UTC)
SET_UP = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _program_on_utc(settings):
    settings.PROGRAM_TIME_ZONE = settings.TIME_ZONE = "UTC"
    settings.MILESTONE_REMINDER_HOUR = 9


@pytest.fixture
def people(creator_user):
    """A creator in Nairobi reading French, a nonprofit contact in New York reading Spanish."""
    creator_user.creator.language = "fr"
    creator_user.creator.save(update_fields=["language"])
    preferences_update(user=creator_user, actor=creator_user, time_zone="Africa/Nairobi")
    contact = NonprofitContactFactory(language="es")
    preferences_update(user=contact.user, actor=contact.user, time_zone="America/New_York")
    return creator_user, contact.user


@pytest.fixture
def opportunity(people):
    with time_machine.travel(SET_UP, tick=False):
        opportunity = make_opportunity(program_manager(), starts_at=STARTS)
        for person in people:
            opportunity_signup(opportunity=opportunity, person=person, actor=person)
    return opportunity


def run_quarter_hourly(first, last, capture) -> dict[str, list]:
    """The beat task every 15 minutes from `first` to `last`; {address: [moments sent]}."""
    sent: dict[str, list] = {}
    moment = first
    while moment <= last:
        before = len(mail.outbox)
        with time_machine.travel(moment, tick=False), capture(execute=True):
            send_opportunity_reminders.delay()
        for message in mail.outbox[before:]:
            sent.setdefault(message.to[0], []).append(moment)
        moment += datetime.timedelta(minutes=15)
    return sent


def test_each_person_is_reminded_once_at_nine_the_day_before_where_they_live(
    opportunity, people, django_capture_on_commit_callbacks
):
    creator, contact = people
    sent = run_quarter_hourly(
        datetime.datetime(2026, 12, 18, 0, 0, tzinfo=UTC),
        datetime.datetime(2026, 12, 20, 16, 0, tzinfo=UTC),
        django_capture_on_commit_callbacks,
    )
    assert sent == {
        # 09:00 in Nairobi (UTC+3) on the 19th, and 09:00 in New York (UTC-5) on the 19th.
        creator.email: [datetime.datetime(2026, 12, 19, 6, 0, tzinfo=UTC)],
        contact.email: [datetime.datetime(2026, 12, 19, 14, 0, tzinfo=UTC)],
    }
    assert OpportunitySignup.objects.filter(reminder_sent_at__isnull=True).count() == 0


def test_the_reminder_is_in_the_persons_language_and_time_zone(
    opportunity, people, django_capture_on_commit_callbacks
):
    creator, contact = people
    with (
        time_machine.travel(datetime.datetime(2026, 12, 19, 15, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert opportunity_reminders_send() == 2
    by_address = {message.to[0]: message for message in mail.outbox}
    french, spanish = by_address[creator.email], by_address[contact.email]
    assert "Raconter pour agir" in french.subject
    assert "L'équipe Change Makers" in french.body
    assert "18:00" in french.body  # 15:00 UTC in Nairobi
    assert "El equipo de Change Makers" in spanish.body
    assert "Storytelling for impact" in spanish.subject  # no Spanish title: the English
    assert "10:00" in spanish.body  # 15:00 UTC in New York
    assert "/portal/opportunities/" in french.body
    assert "/nonprofit/opportunities/" in spanish.body


def test_the_job_queues_on_commit_and_a_second_delivery_sends_nothing(
    opportunity, people, django_capture_on_commit_callbacks
):
    moment = datetime.datetime(2026, 12, 19, 15, 0, tzinfo=UTC)
    with (
        time_machine.travel(moment, tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        queued = opportunity_reminders_send()
    assert queued == 2
    assert len(callbacks) == 2
    assert mail.outbox == []  # nothing leaves before the commit
    with time_machine.travel(moment, tick=False):
        for callback in callbacks:
            callback()
        # A task run twice (a retry, a second worker) sends once.
        for signup in OpportunitySignup.objects.all():
            assert opportunity_reminder_deliver(signup_id=signup.pk) is False
        assert opportunity_reminders_send() == 0
    assert len(mail.outbox) == 2


def test_a_withdrawn_person_or_a_cancelled_opportunity_is_not_reminded(
    opportunity, people, django_capture_on_commit_callbacks
):
    creator, _contact = people
    with time_machine.travel(SET_UP, tick=False):
        opportunity_withdraw(opportunity=opportunity, person=creator, actor=creator)
    with (
        time_machine.travel(datetime.datetime(2026, 12, 19, 15, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        opportunity_reminders_send()
    assert [message.to[0] for message in mail.outbox] == [_contact.email]
    Opportunity.objects.filter(pk=opportunity.pk).update(status=Opportunity.Status.CANCELLED)
    OpportunitySignup.objects.update(reminder_sent_at=None)
    with (
        time_machine.travel(datetime.datetime(2026, 12, 19, 16, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert opportunity_reminders_send() == 0


def test_a_missed_day_before_is_not_sent_on_the_day(
    opportunity, people, django_capture_on_commit_callbacks
):
    """The job was down all of the 19th: on the 20th a "tomorrow" reminder would be wrong."""
    with (
        time_machine.travel(datetime.datetime(2026, 12, 20, 10, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert opportunity_reminders_send() == 0
    assert mail.outbox == []


def test_a_new_date_means_a_new_reminder(opportunity, people, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(datetime.datetime(2026, 12, 19, 15, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        opportunity_reminders_send()
    assert len(mail.outbox) == 2
    with time_machine.travel(datetime.datetime(2026, 12, 19, 16, 0, tzinfo=UTC), tick=False):
        later = STARTS + datetime.timedelta(days=7)
        opportunity_update(
            opportunity=opportunity,
            actor=program_manager(),
            starts_at=later,
            signups_close_on=later.date(),
        )
    with (
        time_machine.travel(datetime.datetime(2026, 12, 26, 15, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert opportunity_reminders_send() == 2
    assert len(mail.outbox) == 4


def test_the_job_is_on_the_beat_every_quarter_of_an_hour():
    entry = BEAT_SCHEDULE["send-opportunity-reminders"]
    assert entry["task"] == "programs.tasks.send_opportunity_reminders"
    assert entry["schedule"].minute == {0, 15, 30, 45}
