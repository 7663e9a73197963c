"""What the opportunity tests share: one made through the services, published."""

import datetime

from django.utils import timezone

from changemakers.core.roles import StaffRole
from programs.models import Opportunity
from programs.services import opportunity_create, opportunity_publish
from tests.factories import StaffFactory


def program_manager():
    return StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])


def make_opportunity(
    actor,
    *,
    publish: bool = True,
    audience: str = Opportunity.Audience.BOTH,
    capacity: int = 10,
    starts_at: datetime.datetime | None = None,
    closes_on: datetime.date | None = None,
    **fields,
) -> Opportunity:
    starts_at = starts_at or timezone.now() + datetime.timedelta(days=10)
    values = {
        "title_en": "Storytelling for impact",
        "title_fr": "Raconter pour agir",
        "description_en": "Two hours on telling a cause's story.",
        "kind": Opportunity.Kind.TRAINING,
        "audience": audience,
        "starts_at": starts_at,
        "place": "Nairobi Hub, room 2",
        "capacity": capacity,
        "signups_close_on": closes_on or (starts_at - datetime.timedelta(days=2)).date(),
        **fields,
    }
    opportunity = opportunity_create(actor=actor, **values)
    if publish:
        opportunity = opportunity_publish(opportunity=opportunity, actor=actor)
    return opportunity
