"""A large program for `make bench-web`, written in bulk: by default 10,000 creators, 100,000
milestones and 20,000 grants, with what the pages around them read.

- 100 cohorts of 100 creators (the most a cohort holds), one every two months: the last is
  active, the others completed; each enrolment has 10 milestones in every review state, the
  active cohort's partly overdue.
- 2,000 nonprofits (most verified), two funds; each creator has one donation from each fund:
  the older fund's paid (with their disbursements), the newer one's spread over every status.
- Ten yearly Change Makers lists of 500 entries (the newest a draft), 100,000 audit events.
- People who sign in: one staff member, one creator in the active cohort, one nonprofit contact
  whose nonprofit has about a hundred grants (`PEOPLE`, password `PASSWORD`).

Everything is inserted with `bulk_create` in large batches inside one transaction (no services:
a seed is not a state change of the program), with a fixed random seed, so two runs hold the
same program. It is also used at a tiny scale by the test suite.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta

PASSWORD = "bench-web-password-2026"
PEOPLE = {
    "staff": "staff@bench.example",
    "creator": "creator.bench@bench.example",
    "nonprofit": "grants@bench-nonprofit.example",
}
COUNTRIES = ["KE", "NG", "GB", "US", "FR", "SN", "PH", "BR", "IN", "EG", "SG", "ES", "CA", "MX"]
MILESTONE_TITLES = [
    "Kickoff",
    "Audience survey",
    "First video",
    "Partner call",
    "Month 2 report",
    "Live session",
    "Month 4 report",
    "Community event",
    "Impact numbers",
    "Final report",
]
BATCH = 5000


@dataclass(frozen=True)
class Scale:
    creators: int = 10_000
    milestones_per_enrolment: int = 10
    cohort_size: int = 100
    nonprofits: int = 2_000
    lists: int = 10
    list_size: int = 500
    audit_events: int = 100_000

    @property
    def cohorts(self) -> int:
        return -(-self.creators // self.cohort_size)


@dataclass(frozen=True)
class Seeded:
    creators: int
    milestones: int
    grants: int
    list_entries: int
    audit_events: int
    nonprofit_grants: int  # of the signed-in nonprofit


def seed(scale: Scale = Scale(), *, today: datetime.date | None = None) -> Seeded:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from changemakers.core.models import AuditEvent
    from creators.models import ChangeMakersList, Creator, ListEntry, PublicField
    from donations.models import (
        Disbursement,
        DisbursementBatch,
        Fund,
        Grant,
        Nonprofit,
        NonprofitContact,
    )
    from programs.models import Cohort, Enrolment, Milestone

    rng = random.Random(2026)
    now = timezone.now()
    today = today or timezone.localdate()
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once, shared: hashing 10,000 times takes minutes

    with transaction.atomic():
        staff = User.objects.create(
            username=PEOPLE["staff"], email=PEOPLE["staff"], password=password,
            is_staff=True, is_superuser=True,
        )  # fmt: skip

        # Creators, each with an account.
        users = User.objects.bulk_create(
            [
                User(
                    username=PEOPLE["creator"] if i == 0 else f"creator{i:05d}@bench.example",
                    email=f"creator{i:05d}@bench.example",
                    password=password,
                )
                for i in range(scale.creators)
            ],
            batch_size=BATCH,
        )
        creators = Creator.objects.bulk_create(
            [
                Creator(
                    user=user,
                    display_name=f"Bench Creator {i:05d}",
                    handle=f"bench.creator{i:05d}",
                    country=COUNTRIES[i % len(COUNTRIES)],
                    causes=[["education", "health", "environment", "equality"][i % 4]],
                    bio="Makes videos about what their community needs.",
                    follower_count=rng.randint(1_000, 5_000_000),
                    # They agreed to appear showing everything, as most creators do.
                    consent=Creator.Consent.AGREED,
                    public_fields=list(PublicField.values),
                    consent_at=now,
                )
                for i, user in enumerate(users)
            ],
            batch_size=BATCH,
        )

        # Cohorts: the newest (holding creator 0, the one who signs in) is active.
        first_start = today - relativedelta(months=2 * (scale.cohorts - 1) + 1)
        cohorts = Cohort.objects.bulk_create(
            [
                Cohort(
                    name=f"Bench cohort {n:03d}",
                    start_date=first_start + relativedelta(months=2 * n),
                    end_date=first_start + relativedelta(months=2 * n + 6),
                    capacity=scale.cohort_size,
                    status=(
                        Cohort.Status.ACTIVE if n == scale.cohorts - 1 else Cohort.Status.COMPLETED
                    ),
                )
                for n in range(scale.cohorts)
            ]
        )
        active = cohorts[-1]
        ordered = [creators[0], *creators[1:]]
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    cohort=cohorts[-1 - i // scale.cohort_size],
                    creator=creator,
                    mission="Get more children reading every week.",
                    status=(
                        Enrolment.Status.ACTIVE
                        if i < scale.cohort_size
                        else Enrolment.Status.COMPLETED
                    ),
                )
                for i, creator in enumerate(ordered)
            ],
            batch_size=BATCH,
        )
        cohort_of = {cohort.pk: cohort for cohort in cohorts}
        statuses = [s for s, _ in Milestone.Status.choices]
        milestones = []
        for enrolment in enrolments:
            cohort = cohort_of[enrolment.cohort_id]
            for m in range(scale.milestones_per_enrolment):
                due = cohort.start_date + datetime.timedelta(days=15 + 17 * m)
                if cohort.pk == active.pk:
                    status = statuses[(m + enrolment.pk) % len(statuses)] if due < today else (
                        Milestone.Status.PENDING
                    )  # fmt: skip
                else:
                    status = Milestone.Status.APPROVED
                milestones.append(
                    Milestone(
                        enrolment=enrolment,
                        title=MILESTONE_TITLES[m % len(MILESTONE_TITLES)]
                        + ("" if m < len(MILESTONE_TITLES) else f" {m}"),
                        description="What to show and how.",
                        due_date=due,
                        status=status,
                    )
                )
        Milestone.objects.bulk_create(milestones, batch_size=BATCH)

        # Nonprofits; the first is the one whose contact signs in.
        nonprofits = Nonprofit.objects.bulk_create(
            [
                Nonprofit(
                    legal_name=f"Bench Nonprofit {i:04d}",
                    slug=f"bench-nonprofit-{i:04d}",
                    registration_number=f"BN-{i:06d}",
                    country=COUNTRIES[i % len(COUNTRIES)],
                    contact_email=f"grants{i}@bench-nonprofit.example",
                    verification_status=(
                        Nonprofit.Verification.PENDING
                        if i % 50 == 49
                        else Nonprofit.Verification.VERIFIED
                    ),
                    payout_reference=f"acct_{i:06d}",
                )
                for i in range(scale.nonprofits)
            ],
            batch_size=BATCH,
        )
        verified = [n for n in nonprofits if n.verification_status == "verified"]
        contact_user = User.objects.create(
            username=PEOPLE["nonprofit"], email=PEOPLE["nonprofit"], password=password
        )
        NonprofitContact.objects.create(user=contact_user, nonprofit=nonprofits[0], name="Bench")

        # Two funds; one donation per creator from each.
        old_fund = Fund.objects.create(name="Bench fund 2025", currency="USD", total=1)
        new_fund = Fund.objects.create(name="Bench fund 2026", currency="USD", total=1)
        new_statuses = ["proposed", "approved", "approved", "scheduled", "disbursed", "disbursed"]
        grants = []
        for i, creator in enumerate(creators):
            for fund, status in (
                (old_fund, "disbursed"),
                (new_fund, "failed" if i % 97 == 0 else new_statuses[i % len(new_statuses)]),
            ):
                # About one grant in 200 goes to the signed-in nonprofit.
                mine = i % 100 == 0
                nonprofit = nonprofits[0] if mine else verified[rng.randrange(len(verified))]
                paid = status == "disbursed"
                days = rng.randint(1, 700 if fund is old_fund else 90)
                when = now - datetime.timedelta(days=days)
                grants.append(
                    Grant(
                        fund=fund,
                        nonprofit=nonprofit,
                        creator=creator,
                        amount=Decimal(25_000),
                        currency="USD",
                        purpose="Donation in the creator's name",
                        status=status,
                        approved_at=None if status == "proposed" else when,
                        disbursed_at=when if paid else None,
                        receipt_confirmed_at=when if paid and i % 3 == 0 else None,
                        receipt_confirmed_by=contact_user if paid and i % 3 == 0 else None,
                    )
                )
        grants = Grant.objects.bulk_create(grants, batch_size=BATCH)
        batch = DisbursementBatch.objects.create(created_by=staff, size=0)
        paying = {"disbursed": "succeeded", "scheduled": "pending", "failed": "failed"}
        disbursements = [
            Disbursement(
                grant=grant,
                batch=batch,
                idempotency_key=f"grant-{grant.idempotency_key}",
                provider="sandbox",
                provider_reference=f"sbx_{grant.pk}" if grant.status == "disbursed" else "",
                amount=grant.amount,
                currency=grant.currency,
                status=paying[grant.status],
                attempts=0 if grant.status == "scheduled" else 1,
                last_error="Payee account closed" if grant.status == "failed" else "",
                queued_at=grant.approved_at,
                started_at=grant.disbursed_at,
                completed_at=grant.disbursed_at,
            )
            for grant in grants
            if grant.status in paying
        ]
        Disbursement.objects.bulk_create(disbursements, batch_size=BATCH)
        DisbursementBatch.objects.filter(pk=batch.pk).update(size=len(disbursements))
        for fund in (old_fund, new_fund):
            mine = [g for g in grants if g.fund_id == fund.pk]
            committed = sum(
                (g.amount for g in mine if g.status in Grant.COMMITTING_STATUSES), Decimal(0)
            )
            disbursed = sum((g.amount for g in mine if g.status == "disbursed"), Decimal(0))
            total = sum((g.amount for g in mine), Decimal(0)) + Decimal(1_000_000)
            Fund.objects.filter(pk=fund.pk).update(
                total=total, committed=committed, disbursed=disbursed
            )

        # Yearly lists, the newest a draft.
        lists = ChangeMakersList.objects.bulk_create(
            [
                ChangeMakersList(
                    year=today.year - n,
                    title=f"Change Makers {today.year - n}",
                    introduction="The creators who moved their communities this year.",
                    status=ChangeMakersList.Status.DRAFT if n == 0 else "published",
                    published_at=None if n == 0 else now - relativedelta(years=n),
                )
                for n in range(scale.lists)
            ]
        )
        causes = ["education", "health", "environment", "equality"]
        entries = [
            ListEntry(
                change_makers_list=edition,
                creator=creators[(n * scale.list_size + p) % len(creators)],
                country=creators[(n * scale.list_size + p) % len(creators)].country,
                cause=causes[p % len(causes)],
                citation="For getting a whole town to read together.",
                position=p + 1,
            )
            for n, edition in enumerate(lists)
            for p in range(min(scale.list_size, len(creators)))
        ]
        ListEntry.objects.bulk_create(entries, batch_size=BATCH)

        # The audit trail the pages read the latest of.
        grant_type = ContentType.objects.get_for_model(Grant)
        events = [
            AuditEvent(
                occurred_at=now - datetime.timedelta(minutes=n),
                actor=staff,
                content_type=grant_type,
                object_id=grants[n % len(grants)].pk,
                object_repr=f"Grant {grants[n % len(grants)].pk}",
                action="approved",
                from_state="proposed",
                to_state="approved",
            )
            for n in range(scale.audit_events)
        ]
        AuditEvent.objects.bulk_create(events, batch_size=BATCH)

    return Seeded(
        creators=len(creators),
        milestones=len(milestones),
        grants=len(grants),
        list_entries=len(entries),
        audit_events=len(events),
        nonprofit_grants=sum(1 for g in grants if g.nonprofit_id == nonprofits[0].pk),
    )
