"""The reminder job run by a real Celery worker that takes it from Redis and works on the
test database: the reminders it claims and sends are committed rows we can see."""

import time

import pytest

from changemakers.celery import app
from changemakers.core.timezones import time_zone_of
from programs.clock import reminder_day
from programs.models import MilestoneReminder
from programs.services import (
    cohort_create,
    enrolment_activate,
    enrolment_invite,
)
from programs.tasks import send_milestone_reminders
from tests.factories import CreatorFactory, UserFactory


@pytest.mark.broker
@pytest.mark.postgres
def test_a_real_worker_sends_the_daily_reminders_once(start_worker):
    # Production settings in the worker; its mail goes to its console log.
    worker = start_worker(env={"DJANGO_EMAIL_URL": "consolemail://"})
    assert app.conf.broker_url.startswith("redis://")
    staff = UserFactory(is_staff=True)
    creator = CreatorFactory(user=UserFactory())
    # The worker's clock is real: make the kickoff due on the program day the creator is
    # reminded about now (the day of their latest 09:00), whatever time it is.
    today = reminder_day(time_zone_of(creator.user))
    cohort = cohort_create(
        name="Worker cohort",
        start_date=today,
        plan=[("Kickoff", 0), ("Final report", 175)],
        actor=staff,
    )
    enrolment = enrolment_invite(cohort=cohort, creator=creator, actor=staff)
    enrolment_activate(enrolment=enrolment, actor=staff)

    for _run in range(2):  # beat firing twice, or a redelivery: still one reminder
        send_milestone_reminders.delay()

    deadline = time.monotonic() + 20
    reminders = []
    while time.monotonic() < deadline:
        reminders = list(MilestoneReminder.objects.values_list("kind", "status"))
        if reminders == [("due_today", "sent")]:
            break
        assert worker.process.poll() is None, worker.output()
        time.sleep(0.2)
    assert reminders == [("due_today", "sent")], worker.output()
    time.sleep(1)  # let the second run finish too
    assert MilestoneReminder.objects.count() == 1, worker.output()
