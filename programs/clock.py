"""The program clock: what day it is where the program runs (PROGRAM_TIME_ZONE). Due dates,
reminders, escalations, the staff digest and the back office's figures all count calendar days
there, whatever zone the person reading a page lives in (the zone a request activates for its
reader changes how times are shown, never which program day it is)."""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone


def program_date_at(moment: datetime.datetime) -> datetime.date:
    """The program's calendar day at `moment` (an aware datetime)."""
    return timezone.localdate(moment, zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE))


def program_today() -> datetime.date:
    """Today's date where the program runs: due dates are calendar days there."""
    return program_date_at(timezone.now())


def reminder_day(zone: str, now: datetime.datetime | None = None) -> datetime.date:
    """The program day a person in `zone` is reminded about now: the program's date at the
    latest MILESTONE_REMINDER_HOUR o'clock (09:00) that has come where they live. So each
    reminder reaches them at their own 09:00 (or the first run after it), and never calls a
    milestone due today or overdue before the program's calendar says so."""
    now = now or timezone.now()
    tz = zoneinfo.ZoneInfo(zone)
    local = now.astimezone(tz)
    morning = datetime.datetime.combine(
        local.date(), datetime.time(settings.MILESTONE_REMINDER_HOUR), tzinfo=tz
    )
    if morning > now:
        morning = datetime.datetime.combine(
            local.date() - datetime.timedelta(days=1),
            datetime.time(settings.MILESTONE_REMINDER_HOUR),
            tzinfo=tz,
        )
    return program_date_at(morning)
