"""One small program with two of everything, built through the services: creators A and B,
nonprofits X and Y (each with a contact who signs in), staff, and whatever each page needs.

The security proofs ask every URL of the project for A's or X's objects as ten people
(`ROLES`): A and X must get in, B and Y must be refused, and so must anyone without the role.
Staff are a superuser (every permission) and one member per staff role, each holding that
role only: the program manager, the finance approver, the nonprofit vetter and the auditor.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from changemakers.api import services as api_services
from changemakers.api.models import ApiToken, Integration
from changemakers.backoffice import personal_data
from changemakers.backoffice.models import PersonalDataRequest
from changemakers.core.roles import StaffRole
from changemakers.core.uploads import attachment_check, image_check, rename_checked
from changemakers.webhooks.models import Delivery, DeliveryAttempt, Endpoint
from creators import services as creator_services
from creators.models import ChangeMakersList, Creator, CreatorInvitation, ListEntry, PublicField
from donations import services
from donations.models import (
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
    PaymentInstruction,
    PayoutDetailsChange,
)
from donations.services.nominations import nomination_create
from programs import services as program_services
from programs.models import (
    Application,
    Cohort,
    Enrolment,
    ImpactIndicator,
    ImpactValue,
    Milestone,
    Opportunity,
    OpportunitySignup,
    ProgressUpdate,
    TikTokVideo,
)
from programs.tiktok import Preview
from tests.factories import StaffFactory, UserFactory
from tests.uploads import image_file, pdf_file

ROLES = (
    "anonymous",
    "creator_a",
    "creator_b",
    "nonprofit_x",
    "nonprofit_y",
    "staff",
    "program_manager",
    "finance",
    "vetter",
    "auditor",
)
# Each staff column but "staff" (a superuser): the one role its member holds.
STAFF_ROLES = {
    "program_manager": StaffRole.PROGRAM_MANAGER,
    "finance": StaffRole.FINANCE_APPROVER,
    "vetter": StaffRole.NONPROFIT_VETTER,
    "auditor": StaffRole.AUDITOR,
}


@dataclass
class World:
    staff: object
    members: dict  # column name -> a member of staff holding that one role
    creator_a: Creator
    creator_b: Creator
    contact_x: NonprofitContact
    contact_y: NonprofitContact
    nonprofit_x: Nonprofit
    nonprofit_y: Nonprofit
    nonprofit_pending: Nonprofit
    cohort: Cohort
    next_cohort: Cohort
    enrolment_a: Enrolment
    offered_a: Enrolment  # A's place in the next cohort, offered and not yet taken up
    invited_c: Enrolment  # a new creator's place, whose portal invitation is unused
    milestone_a: Milestone  # submitted, with an attachment: waiting for review
    update_a: ProgressUpdate
    indicator: ImpactIndicator
    value_a: ImpactValue  # reported with update_a, its milestone under review
    video_a: TikTokVideo  # on update_a, its preview ready with our copy of the thumbnail
    published: ChangeMakersList
    draft: ChangeMakersList
    draft_entry_a: ListEntry
    fund: Fund
    paid_x: Grant  # in A's name, paid to X
    proposed_x: Grant
    approved_x: Grant
    proposed_y: Grant  # in B's name, to Y
    batch: DisbursementBatch
    bank_batch: DisbursementBatch  # a bank transfer by hand to X's sister, awaiting
    bank_instruction: PaymentInstruction
    payout_change_x: PayoutDetailsChange
    application: Application
    data_export_a: PersonalDataRequest  # A's data, asked by staff, approved by the PM, built
    data_request_b: PersonalDataRequest  # an export of B's data, awaiting approval
    link_x_path: str  # a sign-in link of X's contact
    invitation_path: str  # the portal invitation of the new creator
    reset_uid: str  # a password-reset link of an account no test signs in with
    reset_token: str
    integration: Integration  # a staff integration of the API, with a read token
    api_token: ApiToken
    endpoint: Endpoint  # a partner's webhook endpoint
    delivery: Delivery  # one delivery to it, with an attempt
    opportunity: Opportunity  # published, for creators and nonprofits; A and X signed up
    signup_a: OpportunitySignup
    signup_x: OpportunitySignup

    def user(self, role: str):
        return {
            "anonymous": None,
            "creator_a": self.creator_a.user,
            "creator_b": self.creator_b.user,
            "nonprofit_x": self.contact_x.user,
            "nonprofit_y": self.contact_y.user,
            "staff": self.staff,
            **self.members,
        }[role]

    def client(self, role: str, **kwargs) -> Client:
        """A test client signed in as `role` (`Client` arguments pass through)."""
        client = Client(**kwargs)
        user = self.user(role)
        if user is not None:
            client.force_login(user)
        return client


def _creator(handle: str, name: str, country: str, staff) -> Creator:
    user = UserFactory(username=f"{handle}@creators.example")
    return creator_services.creator_create(
        display_name=name,
        handle=handle,
        country=country,
        causes=["education"],
        bio="Teaching on camera.",
        user=user,
        actor=staff,
    )


def _nonprofit(name: str, number: str, staff, vetter, *, verified: bool = True) -> Nonprofit:
    nonprofit = services.nonprofit_create(
        legal_name=name,
        registration_number=number,
        country="KE",
        contact_email=f"grants@{number.lower()}.example",
        payout_reference=f"acct-{number.lower()}-1234",
        actor=staff,
    )
    if verified:
        nonprofit = services.nonprofit_verify(nonprofit=nonprofit, actor=vetter)
    return nonprofit


def _contact(nonprofit: Nonprofit, username: str) -> NonprofitContact:
    return services.nonprofit_contact_add(nonprofit=nonprofit, user=UserFactory(username=username))


def _enrol(cohort: Cohort, creator: Creator, staff) -> Enrolment:
    invited = program_services.enrolment_invite(cohort=cohort, creator=creator, actor=staff)
    return program_services.enrolment_activate(enrolment=invited, actor=creator.user)


def _paid(grant: Grant, staff, approver) -> Grant:
    # Two approvers: a donation is above the second-approval threshold (the second call
    # changes nothing where one approval is enough).
    services.grant_approve(grant=grant, actor=approver)
    grant = services.grant_approve(grant=grant, actor=staff)
    grant = services.grant_schedule(grant=grant, actor=staff)
    services.disbursement_pay(disbursement_id=grant.disbursement.pk)
    return Grant.objects.get(pk=grant.pk)


def build_world() -> World:
    """Everything through the services, as the program would have made it."""
    staff = UserFactory(username="staff@program.example", is_staff=True, is_superuser=True)
    # Whoever adds a nonprofit or proposes a grant does not also verify or approve it.
    approver = UserFactory(username="approver@program.example", is_staff=True, is_superuser=True)
    creator_a = _creator("ayana.teaches", "Ayana Mwangi", "KE", staff)
    creator_b = _creator("bruno.builds", "Bruno Alves", "BR", staff)
    for creator in (creator_a, creator_b):
        photo = image_file("face.png")
        creator_services.creator_profile_update(
            creator=creator,
            actor=creator.user,
            photo=rename_checked(photo, image_check(photo, max_bytes=2 * 1024 * 1024)),
        )
        # Both agreed to appear showing everything, so their public pages show all there is.
        creator_services.creator_consent_confirm(
            creator=creator, actor=creator.user, public_fields=PublicField.values
        )

    nonprofit_x = _nonprofit("Readers of Nairobi", "X-001", staff, approver)
    nonprofit_y = _nonprofit("Young Builders", "Y-002", staff, approver)
    nonprofit_pending = _nonprofit("Pending Trust", "P-003", staff, approver, verified=False)
    contact_x = _contact(nonprofit_x, "grants@readers.example")
    contact_y = _contact(nonprofit_y, "grants@builders.example")

    start = datetime.date(2026, 9, 1)
    cohort = program_services.cohort_create(name="Cohort 1", start_date=start, actor=staff)
    cohort = program_services.cohort_start(cohort=cohort, actor=staff)
    next_cohort = program_services.cohort_create(
        name="Cohort 2", start_date=datetime.date(2027, 3, 1), actor=staff
    )
    enrolment_a = _enrol(cohort, creator_a, staff)
    _enrol(cohort, creator_b, staff)
    offered_a = program_services.enrolment_invite(
        cohort=next_cohort, creator=creator_a, actor=staff
    )
    invited_c = program_services.creator_onboard(
        cohort=next_cohort,
        email="chidi@creators.example",
        actor=staff,
        display_name="Chidi Okeke",
        handle="chidi.codes",
        country="NG",
        causes=["education"],
    )
    invitation = CreatorInvitation.objects.get(creator=invited_c.creator)

    milestone_a = enrolment_a.milestones.order_by("due_date").first()
    attachment = pdf_file()
    indicator = program_services.impact_indicator_create(actor=staff, name="Views", unit="views")
    update_a = program_services.progress_update_submit(
        milestone=milestone_a,
        author=creator_a.user,
        body="The first lessons are out.",
        attachment=rename_checked(
            attachment, attachment_check(attachment, max_bytes=5 * 1024 * 1024)
        ),
        tiktok_links=["https://www.tiktok.com/@creator.a/video/7300000000000000001"],
        impact={indicator: Decimal("1200")},
    )
    thumbnail = image_file("thumbnail.jpg", image_format="JPEG")
    video_a = program_services.tiktok_preview_store(
        video_id=update_a.tiktok_videos.get().pk,
        preview=Preview(title="First lesson", author_name="A", author_url="", thumbnail=None),
        thumbnail=rename_checked(thumbnail, image_check(thumbnail, max_bytes=2 * 1024 * 1024)),
    )

    published = creator_services.list_create(year=2026, title="Change Makers 2026", actor=staff)
    for creator in (creator_a, creator_b):
        creator_services.list_entry_add(
            change_makers_list=published,
            creator=creator,
            cause="education",
            citation="Makes learning travel.",
            actor=staff,
        )
    published = creator_services.list_publish(change_makers_list=published, actor=staff)
    draft = creator_services.list_create(year=2027, title="Change Makers 2027", actor=staff)
    draft_entry_a = creator_services.list_entry_add(
        change_makers_list=draft,
        creator=creator_a,
        cause="education",
        citation="Still teaching.",
        actor=staff,
    )

    fund = services.fund_create(name="Change Makers Fund 2026", total="1000000.00", actor=staff)
    paid_x = _paid(
        nomination_create(creator=creator_a, actor=creator_a.user, nonprofit=nonprofit_x),
        staff,
        approver,
    )
    proposed_x = services.grant_propose(
        fund=fund, nonprofit=nonprofit_x, amount="5000.00", purpose="Books", actor=staff
    )
    approved_x = services.grant_approve(
        grant=services.grant_propose(
            fund=fund, nonprofit=nonprofit_x, amount="7000.00", purpose="Shelves", actor=staff
        ),
        actor=approver,
    )
    proposed_y = nomination_create(creator=creator_b, actor=creator_b.user, nonprofit=nonprofit_y)
    payout_change_x = services.payout_change_request(
        nonprofit=nonprofit_x, payout_reference="acct-x-new-9876", actor=contact_x.user
    )
    link_x = services.nonprofit_link_send(contact=contact_x, actor=staff)
    # X's "what we do" waits for a vetter's review; its causes are set.
    services.nonprofit_causes_set(nonprofit=nonprofit_x, causes=["education"], actor=staff)
    services.nonprofit_description_submit(
        nonprofit=nonprofit_x, description="Books for every classroom.", actor=contact_x.user
    )

    # A nonprofit paid by bank transfer by hand, its grant scheduled: a transfer awaiting.
    nonprofit_z = _nonprofit("Zebra Readers Trust", "Z-004", staff, approver)
    services.nonprofit_payout_method_set(
        nonprofit=nonprofit_z, method="bank_transfer", actor=approver
    )
    services.payout_change_approve(
        change=services.bank_details_change_request(
            nonprofit=nonprofit_z,
            account_holder="Zebra Readers Trust",
            account_number="GB82WEST12345698765432",
            bic="NWBKGB2L",
            bank_country="GB",
            actor=staff,
        ),
        actor=approver,
    )
    bank_batch = services.grants_schedule(
        grants=[
            services.grant_approve(
                grant=services.grant_propose(
                    fund=fund, nonprofit=nonprofit_z, amount="3000.00", actor=staff
                ),
                actor=approver,
            )
        ],
        actor=approver,
    )

    application = program_services.application_submit(
        display_name="Dana Applicant",
        handle="dana.applies",
        email="dana@applicants.example",
        country="GB",
        causes=["health"],
        channel_url="https://video.example/dana",
        mission="Make first aid viral.",
    )

    reset_user = UserFactory(username="member@program.example")

    integration = api_services.integration_create(
        name="Partner CRM", kind=Integration.Kind.STAFF, roles=[StaffRole.AUDITOR], actor=staff
    )
    api_token = api_services.token_issue(integration=integration, scope="read", actor=staff).token

    members = {
        column: StaffFactory(username=f"{column}@program.example", roles=[role])
        for column, role in STAFF_ROLES.items()
    }

    data_export_a = personal_data.data_request_approve(
        request=personal_data.data_request_create(
            creator=creator_a, kind="export", reason="Asked by email", actor=staff
        ),
        actor=members["program_manager"],
    )
    data_export_a = personal_data.data_export_build(request_id=data_export_a.pk)
    data_request_b = personal_data.data_request_create(
        creator=creator_b, kind="export", reason="Asked by email", actor=staff
    )

    opportunity = program_services.opportunity_publish(
        opportunity=program_services.opportunity_create(
            actor=staff,
            title_en="Storytelling for impact",
            title_fr="Raconter pour agir",
            description_en="Two hours on telling a cause's story.",
            kind=Opportunity.Kind.TRAINING,
            audience=Opportunity.Audience.BOTH,
            starts_at=timezone.now() + datetime.timedelta(days=30),
            place="Nairobi Hub, room 2",
            link="https://meet.example/storytelling",
            capacity=10,
            signups_close_on=timezone.localdate() + datetime.timedelta(days=28),
        ),
        actor=staff,
    )
    signup_a = program_services.opportunity_signup(
        opportunity=opportunity, person=creator_a.user, actor=creator_a.user
    )
    signup_x = program_services.opportunity_signup(
        opportunity=opportunity,
        person=contact_x.user,
        actor=contact_x.user,
        organisation=nonprofit_x.legal_name,
    )

    # Made after every change above, so no event of the world is delivered (nothing leaves).
    endpoint = Endpoint.objects.create(
        name="Readers' partner", url="https://partner.example/hooks", events=["grant.disbursed"]
    )
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        message_id="msg_world",
        event_type="grant.disbursed",
        payload='{"type":"grant.disbursed"}',
        status=Delivery.Status.FAILED,
        error="The endpoint answered 500.",
    )
    DeliveryAttempt.objects.create(
        delivery=delivery, attempted_at=delivery.created_at, status_code=500, duration_ms=12
    )

    return World(
        staff=staff,
        members=members,
        creator_a=creator_a,
        creator_b=creator_b,
        contact_x=contact_x,
        contact_y=contact_y,
        nonprofit_x=nonprofit_x,
        nonprofit_y=nonprofit_y,
        nonprofit_pending=nonprofit_pending,
        cohort=cohort,
        next_cohort=next_cohort,
        enrolment_a=enrolment_a,
        offered_a=offered_a,
        invited_c=invited_c,
        milestone_a=Milestone.objects.get(pk=milestone_a.pk),
        update_a=update_a,
        indicator=indicator,
        value_a=update_a.impact_values.get(),
        video_a=video_a,
        published=published,
        draft=draft,
        draft_entry_a=draft_entry_a,
        fund=fund,
        paid_x=paid_x,
        proposed_x=proposed_x,
        approved_x=approved_x,
        proposed_y=proposed_y,
        batch=paid_x.disbursement.batch,
        bank_batch=bank_batch,
        bank_instruction=PaymentInstruction.objects.get(disbursement__batch=bank_batch),
        payout_change_x=payout_change_x,
        application=application,
        data_export_a=data_export_a,
        data_request_b=data_request_b,
        link_x_path=services.link_path(link_x),
        invitation_path=creator_services.invitation_path(invitation),
        reset_uid=urlsafe_base64_encode(force_bytes(reset_user.pk)),
        reset_token=default_token_generator.make_token(reset_user),
        integration=integration,
        api_token=api_token,
        endpoint=endpoint,
        delivery=delivery,
        opportunity=opportunity,
        signup_a=signup_a,
        signup_x=signup_x,
    )
