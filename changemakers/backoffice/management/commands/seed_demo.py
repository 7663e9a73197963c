"""Load the demo program. Safe to run any number of times: what exists is left as it is.

With the stripe payout provider (`make run STRIPE=standin`), the demo's nonprofits are paid
through Stripe: each verified one gets a connected account, created through the API (and
created again when Stripe no longer knows it, as the stand-in after a restart), except the
one whose contact sets up payouts through Stripe's hosted onboarding."""

import datetime
import io
import time
import zoneinfo
from decimal import Decimal

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from changemakers.backoffice import demo_data
from changemakers.backoffice.models import ProgramHub
from changemakers.backoffice.services import program_hub_update
from changemakers.core.roles import staff_role_group
from changemakers.core.uploads import image_check, rename_checked
from creators.models import Cause, ChangeMakersList, Creator, PublicField
from creators.services import (
    creator_consent_confirm,
    creator_create,
    list_create,
    list_entry_add,
    list_publish,
)
from donations.models import (
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
    PayoutDetailsChange,
    PayoutMethod,
)
from donations.payouts.stripe import stripe_client
from donations.services import (
    bank_details_change_request,
    disbursement_pay,
    fund_create,
    grant_approve,
    grant_cancel,
    grant_propose,
    grant_schedule,
    nonprofit_causes_set,
    nonprofit_contact_add,
    nonprofit_contact_create,
    nonprofit_create,
    nonprofit_description_approve,
    nonprofit_description_submit,
    nonprofit_payout_method_set,
    nonprofit_reject,
    nonprofit_stripe_account_ensure,
    nonprofit_verify,
    payout_change_approve,
    payout_change_request,
)
from programs.models import (
    Application,
    Cohort,
    Enrolment,
    ImpactIndicator,
    Milestone,
    Opportunity,
    ProgressUpdate,
)
from programs.services import (
    application_submit,
    cohort_create,
    cohort_start,
    enrolment_activate,
    enrolment_invite,
    highlight_approve,
    highlight_request,
    impact_indicator_create,
    milestone_approve,
    milestone_request_changes,
    opportunity_create,
    opportunity_publish,
    opportunity_signup,
    progress_update_submit,
    tiktok_preview_store,
)
from programs.services.opportunities import open_for_signup as opportunity_open
from programs.tiktok import Preview

# The README's demo password; handle() refuses it when DEBUG is off (pass --password).
DEMO_PASSWORD = "changemakers-demo"  # nosec B105 # public demo login, refused outside DEBUG
STAFF_LOGIN = "staff@changemakers.example"  # the program manager
# Separation of duties: staff@ adds nonprofits and proposes grants; others verify, approve
# (two people above DJANGO_SECOND_APPROVAL_ABOVE) and pay them.
VETTER_LOGIN = "vetter@changemakers.example"
FINANCE_LOGINS = ("finance@changemakers.example", "finance2@changemakers.example")
FINANCE_LOGIN = FINANCE_LOGINS[0]
CREATOR_LOGINS = {
    "joelbervell": "joel@changemakers.example",
    "karaxlewis": "kara@changemakers.example",
    "dadlifejason": "jason@changemakers.example",
    "elivirkina": "eli@changemakers.example",
}
NONPROFIT_LOGIN = ("INT-10001", "US", "grants@openmedicine.example")
FUND_NAME = "Change Makers Fund 2026"
COHORT_NAME = "Cohort 1 — autumn 2026"
COHORT_START = datetime.date(2026, 9, 1)

CITATIONS = {
    Cause.EDUCATION: "Turns lessons into videos millions finish.",
    Cause.ACTIVISM: "Gets a generation to show up and speak out.",
    Cause.ADVOCACY: "Speaks up for people too rarely heard.",
    Cause.ENVIRONMENT: "Makes caring for the planet something to share.",
    Cause.HEALTH: "Brings trustworthy health advice to every feed.",
    Cause.MENTAL_HEALTH: "Makes it normal to talk about how we feel.",
    Cause.EQUALITY: "Builds a feed where everyone belongs.",
    Cause.DISABILITY: "Shows the world through the eyes of disabled people.",
    Cause.POVERTY: "Turns viewers into neighbours who help.",
    Cause.ARTS: "Uses art to open conversations.",
}


class Command(BaseCommand):
    help = "Load the demo Change Makers program (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password for the demo accounts it creates (required when DEBUG is off).",
        )

    def handle(self, *args, password=None, **options):
        if password is None:
            if not settings.DEBUG:
                raise CommandError(
                    "DEBUG is off: pass --password so no well-known demo password reaches a "
                    "real deployment."
                )
            password = DEMO_PASSWORD
        self.password = password
        self.created_users: list[str] = []
        self.stripe = settings.PAYOUT_PROVIDER == "stripe"

        team = self.seed_staff()
        staff, finance = team[STAFF_LOGIN], team[FINANCE_LOGIN]
        self.vetter = team[VETTER_LOGIN]
        self.approvers = [team[login] for login in FINANCE_LOGINS]
        self.seed_staff_second_factors(list(team.values()))
        creators = self.seed_creators(staff)
        self.seed_consent(creators)
        fund = self.seed_fund(finance)
        nonprofits = self.seed_nonprofits(staff)
        self.seed_stripe_accounts(nonprofits)
        self.seed_impact_indicators(staff)
        self.seed_cohort(staff, creators)
        self.seed_grants(staff, finance, fund, creators, nonprofits)
        self.seed_nonprofit_contacts(self.vetter, nonprofits)
        self.seed_public_pages(self.vetter, nonprofits)
        self.seed_lists(staff, creators)
        self.seed_program_hub(staff)
        self.seed_applications()
        self.seed_opportunities(staff, creators)
        self.report()

    # -- people -------------------------------------------------------------------------------

    def user(self, username: str, **flags):
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username, email=username, password=self.password, **flags
            )
            self.created_users.append(username)
        return user

    def seed_staff(self) -> dict:
        """One login per staff role; each holds exactly its demo roles (an earlier seed made
        staff@ a superuser: it is the program manager only now)."""
        team = {}
        for username, roles in demo_data.STAFF_LOGINS.items():
            user = self.user(username, is_staff=True)
            if user.is_superuser or not user.is_staff:
                user.is_superuser, user.is_staff = False, True
                user.save(update_fields=["is_superuser", "is_staff"])
            groups = [staff_role_group(role) for role in roles]
            if set(user.groups.all()) != set(groups):
                user.groups.set(groups)
            team[username] = user
        return team

    def seed_staff_second_factors(self, team: list) -> None:
        """In DEBUG only, every demo staff account gets an authenticator app with the
        documented development secret."""
        self.second_factors = settings.DEBUG
        if settings.DEBUG:
            demo_data.demo_second_factors(team)

    def seed_creators(self, staff) -> dict[str, Creator]:
        existing = {c.handle: c for c in Creator.objects.all()}
        for name, handle, country, causes, followers, bio in demo_data.NAMED_CREATORS:
            if handle not in existing:
                existing[handle] = creator_create(
                    display_name=name,
                    handle=handle,
                    country=country,
                    causes=causes,
                    bio=bio,
                    follower_count=followers,
                    links=[("TikTok", f"https://www.tiktok.com/@{handle}")],
                    actor=staff,
                )
        for number, (name, handle, country, cause) in enumerate(demo_data.LIST_CREATORS):
            if handle not in existing:
                existing[handle] = creator_create(
                    display_name=name,
                    handle=handle,
                    country=country,
                    causes=[cause],
                    bio=CITATIONS[cause],
                    follower_count=50_000 + 37_000 * number,
                    links=[("TikTok", f"https://www.tiktok.com/@{handle}")],
                    actor=staff,
                )
        for handle, username in CREATOR_LOGINS.items():
            creator = existing[handle]
            if creator.user_id is None:
                creator.user = self.user(username)
                creator.save(update_fields=["user", "updated_at"])
        return existing

    def seed_consent(self, creators: dict[str, Creator]) -> None:
        """Demo answers about the public list, once, for the demo's own creators only: a
        creator who has answered is left as is."""
        demo_handles = [h for _n, h, *_r in [*demo_data.NAMED_CREATORS, *demo_data.LIST_CREATORS]]
        for handle in demo_handles:
            creator = creators[handle]
            if handle in demo_data.CONSENT_UNANSWERED:
                continue
            if creator.consent != Creator.Consent.UNANSWERED:
                continue
            fields = demo_data.CONSENT_FEWER.get(handle, PublicField.values)
            creators[handle] = creator_consent_confirm(
                creator=creator, actor=None, public_fields=fields
            )

    # -- money --------------------------------------------------------------------------------

    def seed_fund(self, finance) -> Fund:
        fund = Fund.objects.filter(name=FUND_NAME).first()
        return fund or fund_create(
            name=FUND_NAME, total=Decimal("1000000.00"), currency="USD", actor=finance
        )

    def seed_nonprofits(self, staff) -> dict[str, Nonprofit]:
        """Added by the program manager, verified (or rejected) by the vetter."""
        by_registration = {n.registration_number: n for n in Nonprofit.objects.all()}
        for legal_name, registration, country, reach, status in demo_data.NONPROFITS:
            nonprofit = by_registration.get(registration)
            if nonprofit is None:
                slug = registration.lower().replace("-", "")
                nonprofit = nonprofit_create(
                    legal_name=legal_name,
                    registration_number=registration,
                    country=country,
                    reach=reach,
                    contact_email=f"grants@{slug}.example",
                    website=f"https://{slug}.example",
                    payout_reference=self.payout_reference(registration, slug),
                    actor=staff,
                )
                if status == "verified":
                    nonprofit = nonprofit_verify(nonprofit=nonprofit, actor=self.vetter)
                elif status == "rejected":
                    nonprofit = nonprofit_reject(
                        nonprofit=nonprofit,
                        reason="Registration number not found in the national charity register.",
                        actor=self.vetter,
                    )
                by_registration[registration] = nonprofit
        for registration, details in demo_data.BANK_TRANSFER_NONPROFITS.items():
            self.seed_bank_transfer(by_registration[registration], *details)
        registration, country, username = NONPROFIT_LOGIN
        nonprofit = by_registration[registration]
        if not nonprofit.contacts.exists():
            nonprofit_contact_add(
                nonprofit=nonprofit, user=self.user(username), job_title="Grants manager"
            )
        return by_registration

    def payout_reference(self, registration: str, slug: str) -> str:
        """A new demo nonprofit's payee: a sandbox reference, or with Stripe none yet (its
        connected account becomes its payee: seed_stripe_accounts)."""
        if self.stripe:
            return demo_data.STRIPE_PAYOUT_REFERENCES.get(registration, "")
        return demo_data.PAYOUT_REFERENCES.get(registration, f"acct-{slug}")

    def seed_stripe_accounts(self, nonprofits: dict[str, Nonprofit]) -> None:
        """With the stripe provider, every verified demo nonprofit has a connected account
        Stripe knows, ensured by the vetter through the API (idempotent: an existing account
        is only asked about), apart from those that onboard themselves (until their contact
        has) and those given a special payee."""
        self.stripe_accounts = 0
        if not self.stripe:
            return
        self.wait_for_stripe()
        for _name, registration, *_rest in demo_data.NONPROFITS:
            nonprofit = nonprofits[registration]
            if (
                nonprofit.verification_status != Nonprofit.Verification.VERIFIED
                or registration in demo_data.STRIPE_PAYOUT_REFERENCES
                or (
                    registration in demo_data.STRIPE_SELF_ONBOARDING
                    and not nonprofit.stripe_account_id
                )
            ):
                continue
            nonprofits[registration] = nonprofit_stripe_account_ensure(
                nonprofit=nonprofit, actor=self.vetter
            )
            self.stripe_accounts += 1

    def wait_for_stripe(self, timeout: float = 30) -> None:
        """`make run STRIPE=standin` starts the stand-in beside this command: wait for it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                stripe_client().v1.balance.retrieve()
                return
            except stripe.APIConnectionError as error:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"Stripe ({settings.STRIPE_API_BASE}) did not answer: {error}"
                    ) from error
                time.sleep(0.5)

    def seed_bank_transfer(
        self, nonprofit: Nonprofit, holder: str, account: str, bic: str, country: str, bank: str
    ) -> None:
        """Paid by bank transfer by hand: the vetter chooses it and asks for the bank details,
        finance@ approves them (before any grant of it is approved)."""
        if nonprofit.payout_method != PayoutMethod.BANK_TRANSFER:
            nonprofit_payout_method_set(
                nonprofit=nonprofit, method=PayoutMethod.BANK_TRANSFER, actor=self.vetter
            )
        if not nonprofit.payout_changes.exists():
            change = bank_details_change_request(
                nonprofit=nonprofit,
                account_holder=holder,
                account_number=account,
                bic=bic,
                bank_country=country,
                bank_name=bank,
                actor=self.vetter,
            )
            payout_change_approve(change=change, actor=self.approvers[0])

    def seed_grants(self, staff, finance, fund, creators, nonprofits) -> None:
        """Proposed by the program manager, approved and paid by finance."""
        amount = Decimal(settings.PROGRAM_DONATION_AMOUNT)
        for handle, registration, state in demo_data.DONATIONS:
            creator = creators[handle]
            if Grant.objects.filter(fund=fund, creator=creator).exists():
                continue
            if not nonprofits[registration].payout_reference:
                state = "proposed"  # approved only once it can be paid (Stripe onboarding)
            with transaction.atomic():
                grant = grant_propose(
                    fund=fund,
                    nonprofit=nonprofits[registration],
                    creator=creator,
                    amount=amount,
                    purpose=f"Donation in the name of {creator.display_name}",
                    actor=staff,
                )
            self.advance(grant, state, finance)
        for registration, grant_amount, purpose, state in demo_data.PROGRAM_GRANTS:
            nonprofit = nonprofits[registration]
            if Grant.objects.filter(fund=fund, nonprofit=nonprofit, purpose=purpose).exists():
                continue
            if not nonprofit.payout_reference:
                state = "proposed"
            grant = grant_propose(
                fund=fund, nonprofit=nonprofit, amount=grant_amount, purpose=purpose, actor=staff
            )
            self.advance(grant, state, finance)

    def advance(self, grant: Grant, state: str, finance) -> None:
        """Take a grant staff@ proposed to `state`: approved by finance@, then finance2@ (a
        second approval where the amount needs one; otherwise the call changes nothing), paid
        or cancelled by finance@."""
        if state in ("approved", "cancelled", "disbursed", "failed", "scheduled"):
            for approver in self.approvers:
                grant = grant_approve(grant=grant, actor=approver)
        if state == "scheduled":  # a bank transfer by hand: finance2@ records it as sent
            grant_schedule(grant=grant, actor=self.approvers[0])
        if state in ("disbursed", "failed"):
            # Paid here and now so the demo starts with paid grants; the task queued on commit
            # finds the payment done and does nothing.
            grant = grant_schedule(grant=grant, actor=self.approvers[0])
            disbursement_pay(disbursement_id=grant.disbursement.pk)
        if state == "cancelled":
            grant_cancel(
                grant=grant,
                actor=finance,
                reason="The nonprofit is changing banks; the creator will nominate again.",
            )

    def seed_nonprofit_contacts(self, vetter, nonprofits) -> None:
        """Contacts who sign in by emailed link (no password), and one payout change waiting
        for staff review."""
        user_model = get_user_model()
        for registration, email, name, job_title, language in demo_data.NONPROFIT_CONTACTS:
            if not user_model.objects.filter(username=email).exists():
                nonprofit_contact_create(
                    nonprofit=nonprofits[registration],
                    email=email,
                    name=name,
                    job_title=job_title,
                    language=language,
                    actor=vetter,
                )
        registration, reference = demo_data.PAYOUT_CHANGE
        nonprofit = nonprofits[registration]
        if not PayoutDetailsChange.objects.filter(nonprofit=nonprofit).exists():
            contact = NonprofitContact.objects.filter(nonprofit=nonprofit).select_related("user")
            payout_change_request(
                nonprofit=nonprofit, payout_reference=reference, actor=contact.first().user
            )

    def seed_public_pages(self, vetter, nonprofits) -> None:
        """Causes chosen by the vetter; "what we do" written by each nonprofit's contact and
        approved by the vetter, and newer texts left waiting for review."""
        for registration, (causes, approved, waiting) in demo_data.NONPROFIT_PUBLIC_PAGES.items():
            nonprofit = nonprofits[registration]
            if nonprofit.description_status != Nonprofit.DescriptionStatus.NONE:
                continue  # seeded before
            nonprofit_causes_set(nonprofit=nonprofit, causes=causes, actor=vetter)
            contact = NonprofitContact.objects.filter(nonprofit=nonprofit).first()
            author = contact.user if contact is not None else vetter
            if approved:
                nonprofit_description_submit(
                    nonprofit=nonprofit, description=approved, actor=author
                )
                nonprofit_description_approve(nonprofit=nonprofit, actor=vetter)
            if waiting:
                nonprofit_description_submit(nonprofit=nonprofit, description=waiting, actor=author)

    # -- the cohort ---------------------------------------------------------------------------

    def seed_cohort(self, staff, creators) -> None:
        cohort = Cohort.objects.filter(name=COHORT_NAME).first() or cohort_create(
            name=COHORT_NAME,
            start_date=COHORT_START,
            description="The first ten Change Makers, supported from September to March.",
            actor=staff,
        )
        if cohort.status == Cohort.Status.PLANNING:
            cohort = cohort_start(cohort=cohort, actor=staff)
        for handle in demo_data.COHORT_HANDLES:
            creator = creators[handle]
            enrolment = Enrolment.objects.filter(cohort=cohort, creator=creator).first()
            if enrolment is None:
                enrolment = enrolment_invite(
                    cohort=cohort,
                    creator=creator,
                    mission=demo_data.MISSIONS.get(
                        handle, f"{creator.display_name}: {creator.bio}"
                    ),
                    actor=staff,
                )
            if enrolment.status == Enrolment.Status.INVITED:
                enrolment_activate(enrolment=enrolment, actor=creator.user or staff)
        self.seed_milestone_progress(staff, cohort)

    def seed_impact_indicators(self, staff) -> None:
        for position, (name, unit, aggregation, whole, help_text) in enumerate(
            demo_data.IMPACT_INDICATORS, start=1
        ):
            if not ImpactIndicator.objects.filter(name=name).exists():
                impact_indicator_create(
                    actor=staff,
                    name=name,
                    unit=unit,
                    aggregation=aggregation,
                    whole_numbers=whole,
                    description=help_text,
                    position=position,
                )

    def seed_milestone_progress(self, staff, cohort: Cohort) -> None:
        """Kickoff done by most; month 2 in every state, so the review queue has work in it.
        The updates carry impact figures (the approved ones make the program page's totals)
        and, in month 2, a TikTok video whose preview is stored with it."""
        indicators = {i.name: i for i in ImpactIndicator.objects.all()}
        enrolments = list(
            cohort.enrolments.select_related("creator", "creator__user").order_by("id")
        )
        for index, enrolment in enumerate(enrolments):
            milestones = list(enrolment.milestones.order_by("due_date"))
            if len(milestones) < 2:
                continue
            author = enrolment.creator.user or staff
            kickoff, month_two = milestones[0], milestones[1]
            if kickoff.status == Milestone.Status.PENDING and index < 9:
                progress_update_submit(
                    milestone=kickoff,
                    author=author,
                    body="Kickoff call done; mission and first three video ideas agreed.",
                    impact=self.figures(indicators, index, kickoff=True),
                )
                if index < 8:
                    milestone_approve(milestone=kickoff, actor=staff, feedback="Great start!")
            if month_two.status == Milestone.Status.PENDING and index < 6:
                self.month_two_update(month_two, author, enrolment.creator, index, indicators)
                if index < 3:
                    milestone_approve(milestone=month_two, actor=staff)
                elif index == 3:
                    milestone_request_changes(
                        milestone=month_two,
                        actor=staff,
                        feedback="Please add the view figures for each video.",
                    )
            self.seed_highlight(month_two, enrolment.creator, staff)

    @staticmethod
    def figures(indicators: dict, index: int, *, kickoff: bool) -> dict:
        """Made-up but plausible figures, different for each creator."""
        if kickoff:
            values = {
                "Views": 180_000 + 37_000 * index,
                "People reached": 60_000 + 11_000 * index,
                "Volunteers signed up": 12 + 5 * index,
            }
        else:
            values = {
                "Views": 1_450_000 + 210_000 * index,
                "People reached": 420_000 + 55_000 * index,
                "Donations raised": Decimal("3120.50") + 875 * index,
                "Volunteers signed up": 40 + 9 * index,
            }
        return {
            indicators[name]: Decimal(value) for name, value in values.items() if name in indicators
        }

    def seed_highlight(self, milestone, creator, staff) -> None:
        """The creator asks to show their month-2 update on their public page; the program
        manager approves it as a public highlight with a summary in every language."""
        summaries = demo_data.HIGHLIGHT_SUMMARIES.get(creator.handle)
        update = milestone.updates.order_by("created_at").last()
        if not summaries or update is None or creator.user is None:
            return
        if not update.show_publicly:
            update = highlight_request(update=update, actor=creator.user)
        if update.highlight == ProgressUpdate.Highlight.PENDING:
            highlight_approve(update=update, actor=staff, summaries=summaries)

    def month_two_update(self, milestone, author, creator, index: int, indicators: dict) -> None:
        video_id = demo_data.DEMO_VIDEO_FIRST_ID + index
        video = f"https://www.tiktok.com/@{creator.handle}/video/{video_id}"
        # One transaction: the preview is stored before the fetch job is queued (at commit),
        # so the job finds it ready and asks TikTok nothing.
        with transaction.atomic():
            update = progress_update_submit(
                milestone=milestone,
                author=author,
                body="Four videos published; 2.3M views; nonprofit partner introduced.",
                link=f"https://www.tiktok.com/@{creator.handle}",
                tiktok_links=[video],
                impact=self.figures(indicators, index, kickoff=False),
            )
            tiktok_preview_store(
                video_id=update.tiktok_videos.get().pk,
                preview=Preview(
                    title=demo_data.DEMO_VIDEO_TITLES[index % len(demo_data.DEMO_VIDEO_TITLES)],
                    author_name=creator.display_name,
                    author_url=f"https://www.tiktok.com/@{creator.handle}",
                    thumbnail=None,
                ),
                thumbnail=demo_thumbnail(
                    demo_data.DEMO_VIDEO_COLOURS[index % len(demo_data.DEMO_VIDEO_COLOURS)]
                ),
            )

    # -- the lists ----------------------------------------------------------------------------

    def seed_lists(self, staff, creators) -> None:
        published = ChangeMakersList.objects.filter(year=2026).first() or list_create(
            year=2026,
            title="Change Makers 2026",
            introduction=(
                "Fifty creators from around the world who use their platforms to make a "
                "difference in education, health, the environment and more."
            ),
            translations=demo_data.LIST_2026_TRANSLATIONS,
            actor=staff,
        )
        if not published.entries.exists():
            for _name, handle, *_rest in demo_data.NAMED_CREATORS:
                creator = creators[handle]
                list_entry_add(
                    change_makers_list=published,
                    creator=creator,
                    cause=creator.causes[0],
                    citation=CITATIONS[creator.causes[0]],
                    translations=demo_data.CITATION_TRANSLATIONS.get(creator.causes[0]),
                )
            for _name, handle, _country, cause in demo_data.LIST_CREATORS:
                list_entry_add(
                    change_makers_list=published,
                    creator=creators[handle],
                    cause=cause,
                    citation=CITATIONS[cause],
                    translations=demo_data.CITATION_TRANSLATIONS.get(cause),
                )
        if published.status == ChangeMakersList.Status.DRAFT:
            # Those who have not confirmed stay off the public list until they do.
            list_publish(change_makers_list=published, actor=staff, without_unconfirmed=True)

        draft = ChangeMakersList.objects.filter(year=2027).first() or list_create(
            year=2027, title="Change Makers 2027", actor=staff
        )
        if not draft.entries.exists():
            for handle in ("joelbervell", "wanjiru.reads", "lucia.incluye"):
                creator = creators[handle]
                list_entry_add(
                    change_makers_list=draft,
                    creator=creator,
                    cause=creator.causes[0],
                    citation="Shortlisted for 2027.",
                )

    def seed_program_hub(self, staff) -> None:
        if not ProgramHub.objects.exists():
            program_hub_update(
                actor=staff,
                **demo_data.PROGRAM_HUB,
                translations=demo_data.PROGRAM_HUB_TRANSLATIONS,
            )

    # -- applications awaiting review ----------------------------------------------

    def seed_applications(self) -> None:
        for (
            display_name,
            handle,
            email,
            country,
            causes,
            followers,
            channel,
            mission,
            language,
        ) in demo_data.APPLICATIONS:
            if Application.objects.filter(handle=handle).exists():
                continue
            application_submit(
                display_name=display_name,
                handle=handle,
                email=email,
                country=country,
                causes=causes,
                follower_count=followers,
                channel_url=channel,
                mission=mission,
                language=language,
            )

    # -- output -------------------------------------------------------------------------------

    def seed_opportunities(self, staff, creators: dict[str, Creator]) -> None:
        """Published opportunities dated from today, some places already taken."""
        zone = zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE)
        for item in demo_data.OPPORTUNITIES:
            opportunity = Opportunity.objects.filter(title_en=item["title"]["en"]).first()
            if opportunity is None:
                day = timezone.localdate(timezone.now(), zone) + datetime.timedelta(
                    days=item["days_ahead"]
                )
                opportunity = opportunity_create(
                    actor=staff,
                    **{f"title_{code}": text for code, text in item["title"].items()},
                    **{f"description_{code}": text for code, text in item["description"].items()},
                    kind=item["kind"],
                    audience=item["audience"],
                    starts_at=datetime.datetime.combine(
                        day, datetime.time(item["hour"]), tzinfo=zone
                    ),
                    place=item["place"],
                    link=item["link"],
                    capacity=item["capacity"],
                    signups_close_on=day - datetime.timedelta(days=1),
                )
            if opportunity.status == Opportunity.Status.DRAFT:
                opportunity = opportunity_publish(opportunity=opportunity, actor=staff)
            for handle in item["taken"]:
                user = creators[handle].user
                if user is not None and opportunity_open(opportunity):
                    opportunity_signup(opportunity=opportunity, person=user, actor=user)

    def report(self) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS("Demo program ready."))
        out.write(
            f"  {Creator.objects.count()} creators, {Cohort.objects.count()} cohort(s), "
            f"{Nonprofit.objects.count()} nonprofits, {Grant.objects.count()} grants, "
            f"{ChangeMakersList.objects.count()} lists"
        )
        if self.created_users:
            out.write(f"Demo logins created (password: {self.password}):")
        else:
            out.write("Demo logins (already there; password as when first seeded):")
        for username, roles in demo_data.STAFF_LOGINS.items():
            names = ", ".join(str(role.label) for role in roles)
            out.write(f"  staff      {username}  ({names}; staff pages: /staff/, admin: /admin/)")
        if self.second_factors:
            out.write(
                "Staff sign in with a second factor: the code of the development-only secret "
                f"{demo_data.DEMO_TOTP_SECRET}"
            )
            out.write(
                f"  oathtool --totp -b {demo_data.DEMO_TOTP_SECRET}  (or add it to any "
                "authenticator app)"
            )
        for handle, username in CREATOR_LOGINS.items():
            out.write(f"  creator    {username}  (@{handle})")
        out.write(f"  nonprofit  {NONPROFIT_LOGIN[2]}  (Open Medicine Foundation International)")
        out.write("Nonprofit contacts sign in by emailed link (no password):")
        for registration, email, *_rest in demo_data.NONPROFIT_CONTACTS:
            out.write(f"  nonprofit  {email}  ({registration})")
        out.write(
            "  Ask for a link at /nonprofit/sign-in/ (the console email backend prints it), "
            "or print one: python manage.py nonprofit_link <email>"
        )
        if self.stripe:
            out.write(
                f"Payouts through Stripe ({settings.STRIPE_API_BASE}): {self.stripe_accounts} "
                "demo nonprofits have a connected account."
            )
            for registration in demo_data.STRIPE_SELF_ONBOARDING:
                nonprofit = Nonprofit.objects.get(registration_number=registration)
                if not nonprofit.stripe_account_id:
                    out.write(
                        f"  {nonprofit} sets up payouts itself: sign in as its contact, "
                        "/nonprofit/payouts/, Set up payouts."
                    )


def demo_thumbnail(colour: tuple[int, int, int]):
    """A 9:16 picture standing in for a video's thumbnail: a band of colour with a play mark,
    drawn here, so seeding needs no network."""
    image = Image.new("RGB", (180, 320), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 240, 180, 320), fill=tuple(max(c - 40, 0) for c in colour))
    draw.polygon([(70, 120), (70, 200), (130, 160)], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    upload = SimpleUploadedFile("thumbnail.jpg", buffer.getvalue(), content_type="image/jpeg")
    return rename_checked(upload, image_check(upload, max_bytes=2 * 1024 * 1024))
