"""The program clock: what day it is where the program runs (PROGRAM_TIME_ZONE). Due dates,
reminders, the staff digest and the back office's figures all count calendar days there."""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone


def program_today() -> datetime.date:
    """Today's date where the program runs: due dates are calendar days there."""
    return timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE))
