"""factory_boy factories for every model, shared by all test folders."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from changemakers.core.roles import StaffRole, staff_role_group
from creators.models import Cause, ChangeMakersList, Creator, ListEntry, PublicField
from donations.models import Disbursement, Fund, Grant, Nonprofit, NonprofitContact
from programs.models import Cohort, Enrolment, Milestone, add_months

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.SelfAttribute("username")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    """A member of staff holding the given roles: `StaffFactory(roles=[StaffRole.AUDITOR])`.
    Without roles, staff who may open the dashboard and nothing else."""

    is_staff = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([staff_role_group(StaffRole(role)) for role in extracted])


ALL_STAFF_ROLES = list(StaffRole)


class CreatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creator

    display_name = factory.Faker("name")
    handle = factory.Sequence(lambda n: f"creator_{n}")
    country = "KE"
    causes = factory.LazyFunction(lambda: [Cause.EDUCATION])
    bio = "Teaching on camera."
    follower_count = 125_000
    # A creator who agreed to appear showing everything, as most do; tests of consent itself
    # build `consent=Creator.Consent.UNANSWERED, public_fields=[]` creators.
    consent = Creator.Consent.AGREED
    public_fields = factory.LazyFunction(lambda: list(PublicField.values))


class ChangeMakersListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeMakersList

    year = factory.Sequence(lambda n: 2000 + n % 100)
    title = factory.LazyAttribute(lambda o: f"Change Makers {o.year}")


class ListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListEntry

    change_makers_list = factory.SubFactory(ChangeMakersListFactory)
    creator = factory.SubFactory(CreatorFactory)
    country = factory.SelfAttribute("creator.country")
    cause = Cause.EDUCATION
    citation = "Makes science make sense."
    position = factory.Sequence(lambda n: n + 1)


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Cohort {n + 1}")
    start_date = datetime.date(2026, 9, 1)
    end_date = factory.LazyAttribute(lambda o: add_months(o.start_date, 6))


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    cohort = factory.SubFactory(CohortFactory)
    creator = factory.SubFactory(CreatorFactory)
    mission = "Make health literacy viral."


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    enrolment = factory.SubFactory(EnrolmentFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_date = factory.LazyAttribute(lambda o: o.enrolment.cohort.start_date)


class NonprofitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Nonprofit

    legal_name = factory.Sequence(lambda n: f"Nonprofit {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.legal_name)}-{n}")
    registration_number = factory.Sequence(lambda n: f"REG-{n:05d}")
    country = "GB"
    contact_email = factory.Sequence(lambda n: f"grants{n}@nonprofit.example")
    website = "https://nonprofit.example"
    payout_reference = factory.Sequence(lambda n: f"acct-{n:05d}")
    verification_status = "pending"
    # As `nonprofit_verify` dates it: a verified nonprofit's verification runs from now.
    verified_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.verification_status == "verified" else None
    )


class NonprofitContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NonprofitContact

    user = factory.SubFactory(UserFactory)
    nonprofit = factory.SubFactory(NonprofitFactory)


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund

    name = factory.Sequence(lambda n: f"Fund {n}")
    currency = "USD"
    total = Decimal("1000000.00")


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    fund = factory.SubFactory(FundFactory)
    nonprofit = factory.SubFactory(NonprofitFactory)
    creator = factory.SubFactory(CreatorFactory)
    amount = Decimal("25000.00")
    currency = factory.SelfAttribute("fund.currency")
    # The payee pinned as `grant_approve` pins it (harmless on a proposed grant: approval
    # pins again).
    payee_reference = factory.LazyAttribute(lambda o: o.nonprofit.payout_reference)
    payee_fingerprint = factory.LazyAttribute(lambda o: o.nonprofit.payout_fingerprint())


class DisbursementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disbursement

    grant = factory.SubFactory(GrantFactory)
    idempotency_key = factory.LazyAttribute(lambda o: str(o.grant.idempotency_key))
    provider = "sandbox"
    amount = factory.SelfAttribute("grant.amount")
    currency = factory.SelfAttribute("grant.currency")
    payee_reference = factory.SelfAttribute("grant.payee_reference")
    payee_fingerprint = factory.SelfAttribute("grant.payee_fingerprint")
