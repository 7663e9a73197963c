from collections import Counter
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from creators.models import ChangeMakersList, Creator
from donations.models import Fund, Grant, Nonprofit
from programs.models import Cohort, Enrolment, Milestone

# Seeding stores the demo videos' thumbnails: in a temporary MEDIA_ROOT, never the checkout.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("creators", "programs", "donations", "auth")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)


def test_seed_loads_the_program_of_the_announcement(seeded):
    handles = set(Creator.objects.values_list("handle", flat=True))
    assert {"joelbervell", "karaxlewis", "dadlifejason", "elivirkina"} <= handles

    cohort = Cohort.objects.get()
    assert cohort.status == Cohort.Status.ACTIVE
    assert cohort.enrolments.filter(status=Enrolment.Status.ACTIVE).count() == 10
    assert Milestone.objects.filter(enrolment__cohort=cohort).count() == 40

    fund = Fund.objects.get()
    assert (fund.currency, fund.total) == ("USD", Decimal("1000000.00"))
    committed = sum(g.amount for g in Grant.objects.committing())
    assert fund.committed == committed

    assert Nonprofit.objects.count() == 30
    assert set(Nonprofit.objects.values_list("reach", flat=True)) == {"global", "local"}

    donations = Grant.objects.exclude(creator=None)
    assert set(donations.values_list("amount", flat=True)) == {Decimal("25000.00")}
    assert {"proposed", "approved", "cancelled"} <= set(donations.values_list("status", flat=True))


def test_seed_publishes_a_fifty_entry_global_list(seeded):
    published = ChangeMakersList.objects.published().get()
    countries = set(published.entries.values_list("country", flat=True))
    assert published.entries.count() == 50
    assert {"KE", "SG", "SA", "EG", "GB", "PH", "ES", "NG", "CA"} <= countries
    assert ChangeMakersList.objects.filter(status="draft").exists()


def test_seed_gives_every_milestone_state_to_review(seeded):
    states = Counter(Milestone.objects.values_list("status", flat=True))
    assert set(states) == {"pending", "submitted", "changes_requested", "approved"}


def test_seed_links_demo_logins_to_their_roles(seeded):
    from django.contrib.auth import get_user_model

    from changemakers.core.roles import Role, role_of

    users = get_user_model().objects
    assert role_of(users.get(username="staff@changemakers.example")) is Role.STAFF
    assert role_of(users.get(username="joel@changemakers.example")) is Role.CREATOR
    assert role_of(users.get(username="grants@openmedicine.example")) is Role.NONPROFIT
    assert users.get(username="joel@changemakers.example").check_password("changemakers-demo")


def test_running_the_seed_twice_changes_nothing(seeded, settings):
    before = _row_counts()
    committed = Fund.objects.get().committed
    call_command("seed_demo", verbosity=0)
    assert _row_counts() == before
    assert Fund.objects.get().committed == committed


def test_seed_refuses_a_well_known_password_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="pass --password"):
        call_command("seed_demo")
    assert not Creator.objects.exists()


def test_seed_adds_nonprofit_contacts_and_a_payout_change_waiting(seeded):
    from donations.models import NonprofitContact, PayoutDetailsChange

    amani = NonprofitContact.objects.select_related("user", "nonprofit").get(
        user__email="amani@readersofnairobi.example"
    )
    assert amani.nonprofit.grants.filter(status="disbursed").exists()
    assert not amani.user.has_usable_password()
    assert PayoutDetailsChange.objects.pending().count() == 1

    call_command("seed_demo", verbosity=0)  # idempotent
    assert NonprofitContact.objects.count() == 4
    # The waiting one, and the approved bank details of the nonprofit paid by hand.
    assert PayoutDetailsChange.objects.count() == 2


def test_seed_gives_joels_nonprofit_a_public_page(seeded, client):
    """The nonprofit Joel Bervell's donation went to is verified, paid, with causes and an
    approved description: its public page opens; a newer text of another waits for review."""
    joel = Grant.objects.select_related("nonprofit").get(creator__handle="joelbervell")
    nonprofit = joel.nonprofit
    assert joel.status == "disbursed"
    assert nonprofit in Nonprofit.objects.supported()
    assert nonprofit.causes == ["health", "education"]
    assert nonprofit.description_status == "approved"
    body = client.get(nonprofit.get_absolute_url()).content.decode()
    assert nonprofit.description.split("\n")[0] in body
    assert "Joel Bervell" in body
    assert Nonprofit.objects.filter(description_status="pending").count() == 2

    call_command("seed_demo", verbosity=0)  # idempotent
    assert Nonprofit.objects.filter(description_status="pending").count() == 2


def test_seed_has_a_nonprofit_paid_by_bank_transfer_with_a_transfer_waiting(seeded):
    from donations.models import Nonprofit, PaymentInstruction

    tutors = Nonprofit.objects.get(registration_number="ZA-NPO-7710")
    assert tutors.payout_method == "bank_transfer"
    assert (tutors.bank_account_number, tutors.bank_bic) == ("62112345678", "FIRNZAJJ")
    instruction = PaymentInstruction.objects.get(disbursement__grant__nonprofit=tutors)
    assert instruction.sent_at is None
    assert instruction.disbursement.grant.status == "scheduled"
    assert instruction.created_by.username == "finance@changemakers.example"


def test_nonprofit_link_prints_a_link_that_signs_in(seeded, client, capsys):
    call_command("nonprofit_link", "amani@readersofnairobi.example")
    url = next(
        line for line in capsys.readouterr().out.splitlines() if "/nonprofit/sign-in/" in line
    )

    response = client.post(urlsplit(url.strip()).path)

    assert response.status_code == 302
    assert response.url == "/nonprofit/"
    with pytest.raises(CommandError):
        call_command("nonprofit_link", "nobody@example.org")


def test_seed_gives_the_program_page_its_text_and_next_year_a_draft(seeded):
    from changemakers.backoffice.models import ProgramHub

    hub = ProgramHub.objects.get()
    assert hub.hashtag.startswith("#")
    assert "\n\n" in hub.body
    published = ChangeMakersList.objects.published().get()
    assert published.entries.values("country").distinct().count() >= 15
    assert published.entries.values("cause").distinct().count() >= 8
    draft = ChangeMakersList.objects.get(status="draft")
    assert draft.year == published.year + 1
    assert draft.entries.count() >= 3


def test_seed_gives_every_demo_staff_account_the_documented_development_second_factor(
    settings, capsys
):
    from base64 import b32decode

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from changemakers.backoffice.demo_data import DEMO_STAFF_LOGINS, DEMO_TOTP_SECRET
    from changemakers.core.twofactor.services import code_check

    settings.DEBUG = True
    call_command("seed_demo")
    printed = capsys.readouterr().out
    call_command("seed_demo", verbosity=0)  # idempotent

    assert f"oathtool --totp -b {DEMO_TOTP_SECRET}" in printed
    devices = TOTPDevice.objects.select_related("user").filter(confirmed=True)
    assert sorted(device.user.username for device in devices) == sorted(DEMO_STAFF_LOGINS)
    assert all(device.user.is_staff for device in devices)
    key = b32decode(DEMO_TOTP_SECRET)
    assert {device.key for device in devices} == {key.hex()}
    # The code of the next 30 seconds (the current one was spent on setting it up).
    next_code = f"{totp(key, t0=-30):06d}"
    assert code_check(user=devices[0].user, code=next_code) == devices[0]


def test_seed_outside_debug_gives_no_well_known_second_factor(settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.DEBUG = False
    call_command("seed_demo", "--password", "a long deployment passphrase", verbosity=0)

    assert not TOTPDevice.objects.exists()


def test_demo_grants_are_proposed_by_staff_and_approved_by_two_others(settings):
    """With the production threshold (10,000): each approved demo grant above it has two
    approvers from finance, neither staff@, who proposed every demo grant; vetter@ verified
    the nonprofits staff@ added."""
    settings.DEBUG = True
    settings.SECOND_APPROVAL_ABOVE = Decimal("10000")
    call_command("seed_demo", verbosity=0)

    grants = Grant.objects.select_related("proposed_by", "first_approved_by", "approved_by")
    assert {grant.proposed_by.username for grant in grants} == {"staff@changemakers.example"}
    decided = [grant for grant in grants if grant.approved_by_id]
    assert decided
    assert all(grant.amount > Decimal("10000") for grant in decided)
    assert {(g.first_approved_by.username, g.approved_by.username) for g in decided} == {
        ("finance@changemakers.example", "finance2@changemakers.example")
    }
    verified = Nonprofit.objects.filter(verification_status="verified")
    assert set(verified.values_list("verified_by__username", flat=True)) == {
        "vetter@changemakers.example"
    }


def test_seed_gives_one_staff_login_per_role(seeded):
    from django.contrib.auth import get_user_model

    from changemakers.core.roles import StaffRole, staff_roles_of

    users = get_user_model().objects
    expected = {
        "staff@changemakers.example": [StaffRole.PROGRAM_MANAGER],
        "finance@changemakers.example": [StaffRole.FINANCE_APPROVER],
        "finance2@changemakers.example": [StaffRole.FINANCE_APPROVER],
        "vetter@changemakers.example": [StaffRole.NONPROFIT_VETTER],
        "auditor@changemakers.example": [StaffRole.AUDITOR],
    }
    for username, roles in expected.items():
        user = users.get(username=username)
        assert (user.is_staff, user.is_superuser) == (True, False), username
        assert staff_roles_of(user) == roles, username
        assert user.check_password("changemakers-demo")


def test_seed_decisions_are_taken_by_the_role_that_may(seeded):
    """Grants proposed by the program manager, approved by finance; nonprofits verified by
    the vetter: the demo's history reads as the roles say."""
    from changemakers.core.models import AuditEvent

    actors = {
        action: set(
            AuditEvent.objects.filter(action=action, content_type__model=model).values_list(
                "actor__username", flat=True
            )
        )
        for action, model in (
            ("proposed", "grant"),
            ("approved", "grant"),
            ("verified", "nonprofit"),
        )
    }
    assert "finance@changemakers.example" in actors["approved"]
    assert "staff@changemakers.example" not in actors["approved"]
    assert actors["verified"] == {"vetter@changemakers.example"}
    assert "staff@changemakers.example" in actors["proposed"]


def test_an_earlier_seeds_superuser_becomes_the_program_manager(settings):
    """staff@ was a superuser before staff roles: seeding again leaves it the program manager
    only, and changes nothing more on a further run."""
    from django.contrib.auth import get_user_model

    from changemakers.core.roles import StaffRole, staff_roles_of

    settings.DEBUG = True
    get_user_model().objects.create_user(
        username="staff@changemakers.example", is_staff=True, is_superuser=True
    )
    call_command("seed_demo", verbosity=0)
    staff = get_user_model().objects.get(username="staff@changemakers.example")
    assert not staff.is_superuser
    assert staff_roles_of(staff) == [StaffRole.PROGRAM_MANAGER]


def test_seed_gives_most_creators_consent_and_leaves_three_for_staff_to_see(seeded):
    from creators.models import ListEntry
    from creators.services import list_awaiting_consent

    published = ChangeMakersList.objects.get(year=2026)
    assert published.status == ChangeMakersList.Status.PUBLISHED
    assert ListEntry.objects.filter(change_makers_list=published).public().count() == 47
    waiting = {e.creator.handle for e in list_awaiting_consent(published)}
    assert waiting == {"elivirkina", "amara.sahel", "lea.klima"}
    assert Creator.objects.get(handle="nora.learns").public_fields == ["causes"]
    # A second run records no new answers.
    before = Creator.objects.get(handle="joelbervell").consents.count()
    call_command("seed_demo", verbosity=0)
    assert Creator.objects.get(handle="joelbervell").consents.count() == before == 1


def test_seed_shows_impact_totals_and_tiktok_previews_without_the_internet(seeded, client):
    from programs.models import ImpactValue, TikTokVideo
    from programs.selectors import impact_totals

    videos = TikTokVideo.objects.all()
    assert videos.count() == 6
    assert {video.status for video in videos} == {TikTokVideo.Status.READY}
    assert all(video.thumbnail and video.attempts == 0 for video in videos)
    totals = {total.indicator.name: total.total for total in impact_totals()}
    assert set(totals) == {"Views", "People reached", "Donations raised", "Volunteers signed up"}
    assert all(total > 0 for total in totals.values())
    # Only the approved milestones' figures count: 8 kickoffs and 3 month-2 updates.
    assert ImpactValue.objects.filter(counted=True).count() < ImpactValue.objects.count()
    content = client.get("/program/").content.decode()
    assert "Our impact" in content
    assert f"{totals['Views']:,.0f}" in content


def test_joels_public_page_tells_his_whole_story(seeded, client):
    """A newcomer opening @joelbervell's page sees his cohort, mission, the nonprofit paid in
    his name and an approved highlight with its video and impact figures."""
    from django.urls import reverse
    from django.utils import translation

    from programs.models import ProgressUpdate

    highlight = ProgressUpdate.objects.public_highlights().get(
        milestone__enrolment__creator__handle="joelbervell"
    )
    assert highlight.highlight_decided_by.username == "staff@changemakers.example"
    assert highlight.tiktok_videos.get().thumbnail
    page = client.get(reverse("creators:creator-detail", args=["joelbervell"])).content.decode()
    assert "Cohort 1 — autumn 2026" in page
    assert "Debunk one medical myth a week" in page
    assert (
        '$25,000.00 donated to <a href="/nonprofits/open-medicine-foundation-international/">'
        "Open Medicine Foundation International</a>"
    ) in page
    assert "reached 1.45 million viewers" in page
    assert "1,450,000 views" in page
    assert highlight.tiktok_videos.get().get_thumbnail_url() in page
    with translation.override("fr"):
        url = reverse("creators:creator-detail", args=["joelbervell"])
    client.cookies.load({"django_language": "fr"})
    assert "ont touché 1,45 million de personnes" in client.get(url).content.decode()


def test_seed_publishes_opportunities_a_demo_creator_can_sign_up_to(seeded):
    from programs.models import Opportunity
    from programs.services import opportunity_signup

    published = Opportunity.objects.published().with_taken()
    assert published.count() == 3
    assert {o.audience for o in published} == {"creators", "both"}
    nearly_full = [o for o in published if o.places_left == 1]
    assert len(nearly_full) == 1
    joel = Creator.objects.get(handle="joelbervell").user
    assert joel.username == "joel@changemakers.example"
    signup = opportunity_signup(opportunity=nearly_full[0], person=joel, actor=joel)
    assert signup.status == "signed_up"
    # Seeding again leaves the opportunities and their sign-ups as they are.
    call_command("seed_demo", verbosity=0)
    assert Opportunity.objects.count() == 3
    assert Opportunity.objects.with_taken().get(pk=nearly_full[0].pk).places_left == 0
