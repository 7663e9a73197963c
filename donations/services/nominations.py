"""A creator nominates the nonprofit for the donation given in their name: a verified one,
or a new one that goes to staff vetting. Either way a proposed grant of the program's
donation amount is created through `grant_propose`, on the program's fund.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from creators.models import Creator
from programs.models import Enrolment

from ..models import Fund, Grant, Nonprofit
from .grants import grant_propose
from .nonprofits import nonprofit_create

# A grant in any of these states is the creator's donation; a new nomination waits for it
# to be cancelled. A failed one stays theirs: staff retry it once its details are fixed, and so
# does one whose payment's outcome is unknown (the database holds this too: one grant per
# creator and fund unless cancelled).
LIVE_STATUSES = (
    "proposed",
    "approved",
    "scheduled",
    "processing",
    "disbursed",
    "failed",
    "unknown",
)


def donation_fund() -> Fund:
    """The fund donations come from: the one named in PROGRAM_DONATION_FUND, else the fund in
    the program's currency with the most left to commit."""
    funds = Fund.objects.filter(currency=settings.PROGRAM_CURRENCY)
    if settings.PROGRAM_DONATION_FUND:
        funds = funds.filter(name=settings.PROGRAM_DONATION_FUND)
    fund = funds.order_by((F("total") - F("committed")).desc(), "pk").first()
    if fund is None:
        raise ValidationError(
            _("No fund is open for donations yet; the program team has been told."),
            code="no_fund",
        )
    return fund


def donation_live(creator: Creator) -> Grant | None:
    return (
        Grant.objects.filter(creator=creator, status__in=LIVE_STATUSES)
        .select_related("nonprofit")
        .order_by("-created_at")
        .first()
    )


def nomination_create(
    *,
    creator: Creator,
    actor,
    nonprofit: Nonprofit | None = None,
    new_nonprofit: dict | None = None,
) -> Grant:
    """Nominate `nonprofit` (verified) or propose `new_nonprofit` (the fields of
    `nonprofit_create`, left pending vetting). Refused while the creator already has a live
    donation, and for creators who have not taken up a place in a cohort."""
    if (nonprofit is None) == (new_nonprofit is None):
        raise ValueError("Pass exactly one of nonprofit and new_nonprofit.")
    with transaction.atomic():
        # The creator's row lock makes a double submit nominate once.
        locked = Creator.objects.select_for_update().get(pk=creator.pk)
        if not Enrolment.objects.filter(
            creator=locked, status__in=[Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED]
        ).exists():
            raise ValidationError(
                _("You can nominate a nonprofit once you have taken up your place in a cohort."),
                code="not_enrolled",
            )
        live = donation_live(locked)
        if live is not None:
            raise ValidationError(
                _(
                    "Your donation to %(nonprofit)s is already under way; a new nomination is "
                    "possible only if it is cancelled."
                )
                % {"nonprofit": live.nonprofit},
                code="nomination_exists",
            )
        if nonprofit is not None:
            nonprofit = Nonprofit.objects.get(pk=nonprofit.pk)
            if nonprofit.verification_status != Nonprofit.Verification.VERIFIED:
                raise ValidationError(
                    _("Pick a verified nonprofit, or propose a new one for vetting."),
                    code="nonprofit_not_verified",
                )
        else:
            nonprofit = nonprofit_create(**new_nonprofit, actor=actor)
        return grant_propose(
            fund=donation_fund(),
            nonprofit=nonprofit,
            creator=locked,
            amount=Decimal(settings.PROGRAM_DONATION_AMOUNT),
            purpose=_("Donation in the name of %(name)s") % {"name": locked.display_name},
            actor=actor,
        )
