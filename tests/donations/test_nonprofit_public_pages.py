"""The public pages of the nonprofits the program supports (/nonprofits/), and the "what we do"
text behind them: written by the nonprofit's contact, approved or declined by a vetter, the
approved text public while a new one waits."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from changemakers.core import page_cache
from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from creators.models import ChangeMakersList
from creators.services import creator_consent_withdraw
from donations.models import Grant, Nonprofit
from donations.services import (
    disbursement_pay,
    disbursement_reversal_record,
    grant_approve,
    grant_propose,
    grant_schedule,
    nonprofit_causes_set,
    nonprofit_create,
    nonprofit_description_approve,
    nonprofit_description_decline,
    nonprofit_description_submit,
    nonprofit_reject,
    nonprofit_verify,
)
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    FundFactory,
    ListEntryFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def vetter(db):
    return StaffFactory(username="vetter@program.example", roles=[StaffRole.NONPROFIT_VETTER])


@pytest.fixture
def auditor(db):
    return StaffFactory(username="auditor@program.example", roles=[StaffRole.AUDITOR])


def verified(vetter, **fields) -> Nonprofit:
    fields.setdefault("payout_reference", "acct-readers-1234")
    return nonprofit_verify(nonprofit=NonprofitFactory(**fields), actor=vetter)


def pay(nonprofit, staff_user, proposer_user, *, fund=None, creator=None, amount="25000.00"):
    grant = grant_propose(
        fund=fund or FundFactory(),
        nonprofit=nonprofit,
        amount=amount,
        creator=creator,
        purpose="Donation",
        actor=proposer_user,
    )
    grant = grant_approve(grant=grant, actor=staff_user)
    grant = grant_schedule(grant=grant, actor=staff_user)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    return Grant.objects.select_related("disbursement").get(pk=grant.pk)


@pytest.fixture
def readers(vetter):
    return verified(
        vetter,
        legal_name="Readers of Nairobi",
        country="KE",
        website="https://readers.example",
        contact_email="secret-grants@readers.example",
        payout_reference="acct-readers-9876",
    )


@pytest.fixture
def contact(readers):
    return NonprofitContactFactory(nonprofit=readers, name="Amani Wekesa", phone="+254700000001")


@pytest.fixture
def paid_readers(readers, staff_user, proposer_user):
    pay(readers, staff_user, proposer_user)
    return readers


def content(response) -> str:
    """The page's main content (the head's description is not cached)."""
    return response.content.decode().split("<main", 1)[1]


def code_of(error: ValidationError) -> str:
    """The code of a refusal, whether it names a field or not."""
    if hasattr(error, "error_dict"):
        return next(iter(error.error_dict.values()))[0].code
    return error.code


def listed_creator(name: str, handle: str, *, agreed: bool = True):
    """A creator on the published 2026 list, who agreed to be shown (or never answered)."""
    consent = {} if agreed else {"consent": "unanswered", "public_fields": []}
    creator = CreatorFactory(display_name=name, handle=handle, user=UserFactory(), **consent)
    edition = ChangeMakersList.objects.filter(year=2026).first() or ChangeMakersListFactory(
        year=2026, status="published", published_at=timezone.now()
    )
    ListEntryFactory(change_makers_list=edition, creator=creator)
    return creator


# --- The slug -----------------------------------------------------------------------------------


def test_a_new_nonprofit_gets_a_unique_slug_from_its_name(staff_user):
    first = nonprofit_create(
        legal_name="Solidarité Alimentaire",
        registration_number="FR-1",
        country="FR",
        contact_email="a@example.org",
        actor=staff_user,
    )
    second = nonprofit_create(
        legal_name="Solidarité  alimentaire!",
        registration_number="FR-2",
        country="FR",
        contact_email="b@example.org",
        actor=staff_user,
    )
    arabic = nonprofit_create(
        legal_name="جمعية القراءة",
        registration_number="SA-1",
        country="SA",
        contact_email="c@example.org",
        actor=staff_user,
    )
    assert (first.slug, second.slug, arabic.slug) == (
        "solidarite-alimentaire",
        "solidarite-alimentaire-2",
        "nonprofit",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        NonprofitFactory(slug="solidarite-alimentaire")


def test_the_slug_migration_fills_existing_rows(transactional_db):
    """0020 gives every nonprofit from before the slug field one, unique."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("donations", "0019_nonprofit_public_page")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("donations", "Nonprofit")
    for number, name in enumerate(["Frames of Hope", "Frames of hope", "Ocean"]):
        old.objects.create(
            legal_name=name,
            registration_number=f"R-{number}",
            country="US",
            contact_email=f"{number}@example.org",
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert sorted(Nonprofit.objects.values_list("slug", flat=True)) == [
        "frames-of-hope",
        "frames-of-hope-2",
        "ocean",
    ]


# --- The description: written by the contact, reviewed by a vetter ------------------------------


def test_contact_submits_vetter_approves_and_the_text_becomes_public(readers, contact, vetter):
    submitted = nonprofit_description_submit(
        nonprofit=readers, description="  We run reading clubs in 40 schools.  ", actor=contact.user
    )
    assert submitted.description_status == Nonprofit.DescriptionStatus.PENDING
    assert (submitted.description_pending, submitted.description) == (
        "We run reading clubs in 40 schools.",
        "",
    )
    approved = nonprofit_description_approve(nonprofit=readers, actor=vetter)
    assert approved.description_status == Nonprofit.DescriptionStatus.APPROVED
    assert (approved.description, approved.description_pending) == (
        "We run reading clubs in 40 schools.",
        "",
    )
    assert approved.description_reviewed_by == vetter
    actions = list(
        AuditEvent.objects.for_object(readers)
        .filter(action__startswith="description_")
        .values_list("action", "actor__username")
    )
    assert actions == [
        ("description_submitted", contact.user.username),
        ("description_approved", "vetter@program.example"),
    ]
    # A second click changes nothing.
    assert nonprofit_description_approve(nonprofit=readers, actor=vetter).description_status == (
        "approved"
    )


def test_the_approved_text_stays_public_while_a_new_one_waits_or_is_declined(
    readers, contact, vetter
):
    nonprofit_description_submit(nonprofit=readers, description="First text.", actor=contact.user)
    nonprofit_description_approve(nonprofit=readers, actor=vetter)
    waiting = nonprofit_description_submit(
        nonprofit=readers, description="Second text.", actor=contact.user
    )
    assert (waiting.description, waiting.description_pending) == ("First text.", "Second text.")
    declined = nonprofit_description_decline(
        nonprofit=readers, reason="Say where you work.", actor=vetter
    )
    assert declined.description_status == Nonprofit.DescriptionStatus.DECLINED
    assert declined.description == "First text."
    assert declined.description_decline_reason == "Say where you work."
    event = AuditEvent.objects.for_object(readers).get(action="description_declined")
    assert event.note == "Say where you work."
    # Sent again: waiting, the reason cleared.
    again = nonprofit_description_submit(
        nonprofit=readers, description="Second text, in Nairobi.", actor=contact.user
    )
    assert (again.description_status, again.description_decline_reason) == ("pending", "")


def test_only_the_nonprofits_own_contact_or_a_vetter_submits(readers, vetter, auditor):
    stranger = NonprofitContactFactory()  # a contact of another nonprofit
    creator = CreatorFactory(user=UserFactory()).user
    for actor in (stranger.user, creator, auditor, UserFactory(), None):
        with pytest.raises(ValidationError) as refused:
            nonprofit_description_submit(nonprofit=readers, description="Hijacked.", actor=actor)
        assert refused.value.code == "not_own_nonprofit"
    readers.refresh_from_db()
    assert readers.description_status == Nonprofit.DescriptionStatus.NONE


def test_only_a_vetter_reviews_and_never_their_own_text(readers, contact, vetter, auditor):
    nonprofit_description_submit(nonprofit=readers, description="Our text.", actor=contact.user)
    program_manager = StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    for actor in (contact.user, auditor, program_manager, finance, None):
        with pytest.raises(ValidationError) as refused:
            nonprofit_description_approve(nonprofit=readers, actor=actor)
        assert refused.value.code == "not_permitted"
        with pytest.raises(ValidationError):
            nonprofit_description_decline(nonprofit=readers, reason="No.", actor=actor)
    readers.refresh_from_db()
    assert (readers.description_status, readers.description) == ("pending", "")

    # A vetter who wrote it (for the nonprofit) does not also approve it.
    nonprofit_description_submit(nonprofit=readers, description="Staff's text.", actor=vetter)
    with pytest.raises(ValidationError) as refused:
        nonprofit_description_approve(nonprofit=readers, actor=vetter)
    assert refused.value.code == "reviewer_is_author"


def test_a_description_is_refused_empty_too_long_or_reviewed_when_none_waits(
    readers, contact, vetter
):
    for text, code in (("   ", "description_empty"), ("x" * 2001, "description_long")):
        with pytest.raises(ValidationError) as refused:
            nonprofit_description_submit(nonprofit=readers, description=text, actor=contact.user)
        assert code_of(refused.value) == code
    with pytest.raises(ValidationError) as refused:
        nonprofit_description_approve(nonprofit=readers, actor=vetter)
    assert refused.value.code == "description_not_pending"
    nonprofit_description_submit(nonprofit=readers, description="Text.", actor=contact.user)
    with pytest.raises(ValidationError) as refused:
        nonprofit_description_decline(nonprofit=readers, reason="  ", actor=vetter)
    assert code_of(refused.value) == "reason_empty"
    # The database holds it too: a declined text has a reason, a waiting one has a text.
    with pytest.raises(IntegrityError), transaction.atomic():
        Nonprofit.objects.filter(pk=readers.pk).update(description_status="declined")


def test_causes_are_set_by_staff_who_change_nonprofits_from_the_creators_vocabulary(
    readers, vetter, auditor, contact
):
    nonprofit_causes_set(nonprofit=readers, causes=["education", "poverty"], actor=vetter)
    readers.refresh_from_db()
    assert readers.get_causes_display() == ["Education", "Poverty relief"]
    with pytest.raises(ValidationError):
        nonprofit_causes_set(nonprofit=readers, causes=["crypto"], actor=vetter)
    for actor in (auditor, contact.user):
        with pytest.raises(ValidationError):
            nonprofit_causes_set(nonprofit=readers, causes=["health"], actor=actor)
    readers.refresh_from_db()
    assert readers.causes == ["education", "poverty"]


# --- Who is public ------------------------------------------------------------------------------


def test_only_verified_nonprofits_paid_and_not_reversed_in_full_are_supported(
    vetter, staff_user, proposer_user, client
):
    paid = verified(vetter, legal_name="Paid Org")
    pay(paid, staff_user, proposer_user)
    unpaid = verified(vetter, legal_name="Unpaid Org")
    grant_approve(
        grant=grant_propose(
            fund=FundFactory(), nonprofit=unpaid, amount="100.00", actor=proposer_user
        ),
        actor=staff_user,
    )
    pending = NonprofitFactory(legal_name="Pending Org")
    rejected = verified(vetter, legal_name="Rejected Org")
    pay(rejected, staff_user, proposer_user)
    nonprofit_reject(nonprofit=rejected, reason="Fraud.", actor=vetter)
    taken_back = verified(vetter, legal_name="Taken Back Org")
    grant = pay(taken_back, staff_user, proposer_user, amount="500.00")
    partly = verified(vetter, legal_name="Partly Org")
    partial = pay(partly, staff_user, proposer_user, amount="500.00")
    for reversed_grant, amount in ((grant, "500.00"), (partial, "200.00")):
        disbursement = reversed_grant.disbursement
        disbursement_reversal_record(
            provider=disbursement.provider,
            reference=disbursement.provider_reference,
            idempotency_key=disbursement.idempotency_key,
            amount=disbursement.amount,
            currency=disbursement.currency,
            amount_reversed=Decimal(amount),
        )

    assert set(Nonprofit.objects.supported()) == {paid, partly}
    body = client.get(reverse("nonprofits:nonprofit-list")).content.decode()
    assert "Paid Org" in body
    assert "Partly Org" in body
    for hidden in (unpaid, pending, rejected, taken_back):
        assert hidden.legal_name not in body
        response = client.get(reverse("nonprofits:nonprofit-detail", args=[hidden.slug]))
        assert response.status_code == 404
    page = client.get(reverse("nonprofits:nonprofit-detail", args=[partly.slug]))
    assert page.status_code == 200
    assert "$300.00" in page.content.decode()  # what it kept of the $500


def test_an_unknown_slug_is_a_404(client):
    assert client.get("/nonprofits/no-such-org/").status_code == 404
    assert client.get("/nonprofits/%00/").status_code == 404


# --- The nonprofit's page -----------------------------------------------------------------------


def test_the_page_shows_name_country_website_causes_text_totals_and_consenting_creators(
    paid_readers, contact, vetter, staff_user, proposer_user, client
):
    readers = paid_readers
    nonprofit_causes_set(nonprofit=readers, causes=["education"], actor=vetter)
    nonprofit_description_submit(
        nonprofit=readers, description="Reading clubs in 40 schools.", actor=contact.user
    )
    nonprofit_description_approve(nonprofit=readers, actor=vetter)
    # A second currency: shown on its own line, never added to the dollars.
    pay(readers, staff_user, proposer_user, fund=FundFactory(currency="EUR"), amount="1000.00")
    shown = listed_creator("Wanjiru Kamau", "wanjiru.reads")
    unconsented = listed_creator("Hidden Person", "hidden.person", agreed=False)
    withdrawn = listed_creator("Gone Person", "gone.person")
    creator_consent_withdraw(creator=withdrawn, actor=withdrawn.user)
    unlisted = CreatorFactory(display_name="Unlisted Person", handle="unlisted.person")
    fund = FundFactory(total="1000000.00")
    for creator in (shown, unconsented, withdrawn, unlisted):
        pay(readers, staff_user, proposer_user, fund=fund, creator=creator, amount="10.00")

    response = client.get(readers.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Readers of Nairobi</h1>" in body
    assert "Kenya" in body
    assert 'href="https://readers.example"' in body
    assert "Education" in body
    assert "Reading clubs in 40 schools." in body
    assert "$25,040.00" in body
    assert "€1,000.00" in body
    assert f'href="{shown.get_absolute_url()}"' in body
    assert "Wanjiru Kamau" in body
    for hidden in (unconsented, withdrawn, unlisted):
        assert hidden.display_name not in body
        assert hidden.handle not in body


def test_no_private_data_on_the_public_pages(paid_readers, contact, vetter, client):
    readers = paid_readers
    nonprofit_description_submit(nonprofit=readers, description="Waiting text.", actor=contact.user)
    Nonprofit.objects.filter(pk=readers.pk).update(
        stripe_account_id="acct_1SecretStripe", bank_name="Secret Bank", bank_country="KE"
    )
    bodies = [
        client.get(reverse("nonprofits:nonprofit-list")).content.decode(),
        client.get(readers.get_absolute_url()).content.decode(),
    ]
    for body in bodies:
        assert "Readers of Nairobi" in body
        for private in (
            "secret-grants@readers.example",  # the organisation's contact email
            contact.user.email,
            "Amani Wekesa",
            "+254700000001",
            "acct-readers-9876",  # the payout reference, whole or masked
            "9876",
            "acct_1SecretStripe",
            "Secret Bank",
            readers.registration_number,
            "Waiting text.",  # not approved
            "@",  # no email address at all (creators' handles are in <bdi>, none here)
        ):
            # The page's own content: the footer names the program's account (@...).
            assert private not in body.split("<main", 1)[1].split("</main>", 1)[0], private


def test_the_description_waiting_for_review_is_not_public(paid_readers, contact, vetter, client):
    nonprofit_description_submit(nonprofit=paid_readers, description="Draft.", actor=contact.user)
    assert "Draft." not in client.get(paid_readers.get_absolute_url()).content.decode()


def test_the_pages_read_in_constant_queries(
    vetter, staff_user, proposer_user, client, django_assert_max_num_queries
):
    fund = FundFactory(total="10000000.00")
    for number in range(3):
        nonprofit = verified(vetter, legal_name=f"Org {number}", country="KE")
        pay(nonprofit, staff_user, proposer_user, fund=fund, amount="10.00")
        creator = listed_creator(f"Creator {number}", f"creator.{number}")
        pay(nonprofit, staff_user, proposer_user, fund=fund, creator=creator, amount="10.00")

    def queries(url: str) -> int:
        with django_assert_max_num_queries(50) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    list_url = reverse("nonprofits:nonprofit-list")
    few = (queries(list_url), queries(nonprofit.get_absolute_url()))
    other_fund = FundFactory(total="10000000.00", currency="EUR")
    for number in range(3, 9):
        more = verified(vetter, legal_name=f"Org {number}", country="GB")
        pay(more, staff_user, proposer_user, fund=fund, amount="10.00")
        creator = listed_creator(f"Creator {number}", f"creator.{number}")
        pay(more, staff_user, proposer_user, fund=fund, creator=creator, amount="10.00")
        pay(nonprofit, staff_user, proposer_user, fund=other_fund, creator=creator, amount="9.00")
    many = (queries(list_url), queries(nonprofit.get_absolute_url()))
    assert many == few
    assert few[0] <= 4
    assert few[1] <= 3


# --- The list's filters -------------------------------------------------------------------------


def test_the_list_filters_by_country_and_cause_and_ignores_unknown_values(
    vetter, staff_user, proposer_user, client
):
    kenyan = verified(vetter, legal_name="Kenyan Readers", country="KE")
    british = verified(vetter, legal_name="British Health", country="GB")
    for nonprofit, cause in ((kenyan, "education"), (british, "health")):
        nonprofit_causes_set(nonprofit=nonprofit, causes=[cause], actor=vetter)
        pay(nonprofit, staff_user, proposer_user)
    url = reverse("nonprofits:nonprofit-list")

    def names(query: str, **headers) -> list[str]:
        body = client.get(f"{url}?{query}", headers=headers).content.decode()
        return re.findall(r'class="entry__name"><a href="[^"]+">([^<]+)</a>', body)

    assert names("") == ["British Health", "Kenyan Readers"]
    assert names("country=KE") == ["Kenyan Readers"]
    assert names("cause=health") == ["British Health"]
    assert names("country=KE&cause=health") == []
    assert names("country=ZZ&cause=nonsense") == ["British Health", "Kenyan Readers"]
    # htmx: the results alone, the same filter.
    fragment = client.get(f"{url}?country=GB", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith("<")
    assert "<html" not in fragment.content.decode()
    assert names("country=GB", HX_Request="true") == ["British Health"]
    assert "HX-Request" in fragment["Vary"]
    # Country names in the reader's language.
    french = client.get(url, headers={"Accept-Language": "fr"}).content.decode()
    assert "Royaume-Uni" in french


def test_the_list_pages_with_the_kernels_pagination(vetter, staff_user, proposer_user, client):
    fund = FundFactory(total="10000000.00")
    for number in range(23):
        pay(
            verified(vetter, legal_name=f"Org {number:02d}"),
            staff_user,
            proposer_user,
            fund=fund,
            amount="1.00",
        )
    url = reverse("nonprofits:nonprofit-list")
    first = client.get(url).content.decode()
    assert "23 nonprofits" in first
    assert "Org 19" in first
    assert "Org 20" not in first
    assert 'rel="next"' in first
    second = client.get(f"{url}?page=2").content.decode()
    assert "Org 20" in second
    assert "Org 19" not in second


# --- Cached, and fresh after a change -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_approved_description_and_a_new_payment_show_on_the_next_request(
    pages, paid_readers, contact, vetter, staff_user, proposer_user, client
):
    """Real commits: each service's commit retires the cached parts (the audit bumps the
    data version on commit), so the next request shows the change."""
    url = paid_readers.get_absolute_url()
    list_url = reverse("nonprofits:nonprofit-list")
    assert "$25,000.00" in content(client.get(url))
    assert "$25,000.00" in content(client.get(list_url))
    # Cached: a change made behind the services' back does not show...
    Nonprofit.objects.filter(pk=paid_readers.pk).update(description="Sneaked in.")
    assert "Sneaked in." not in content(client.get(url))
    # ...one made through them does, at once.
    nonprofit_description_submit(
        nonprofit=paid_readers, description="Approved text.", actor=contact.user
    )
    assert "Approved text." not in content(client.get(url))
    nonprofit_description_approve(nonprofit=paid_readers, actor=vetter)
    assert "Approved text." in content(client.get(url))
    pay(paid_readers, staff_user, proposer_user, amount="5.00")
    assert "$25,005.00" in content(client.get(url))
    assert "$25,005.00" in content(client.get(list_url))
    page_cache._pages().clear()


# --- The contact's portal and staff's page ------------------------------------------------------


def test_the_contact_writes_the_text_and_sees_where_it_stands(
    paid_readers, contact, vetter, client
):
    client.force_login(contact.user)
    url = reverse("nonprofit:public-page")
    page = client.get(url)
    assert page.status_code == 200
    assert paid_readers.get_absolute_url() in page.content.decode()
    refused = client.post(url, {"description": ""})
    assert refused.status_code == 422
    response = client.post(url, {"description": "We run reading clubs."})
    assert response.status_code == 302
    assert "Waiting for review" in client.get(url).content.decode()
    nonprofit_description_decline(nonprofit=paid_readers, reason="Too short.", actor=vetter)
    body = client.get(url).content.decode()
    assert "Declined" in body
    assert "Too short." in body
    assert "We run reading clubs." in body  # to edit and send again


def test_staff_review_the_waiting_text_on_the_nonprofits_page(
    paid_readers, contact, vetter, auditor, client
):
    nonprofit_description_submit(
        nonprofit=paid_readers, description="Reading clubs.", actor=contact.user
    )
    page_url = reverse("donations:nonprofit-public-page", args=[paid_readers.pk])
    approve_url = reverse("donations:nonprofit-description-approve", args=[paid_readers.pk])
    decline_url = reverse("donations:nonprofit-description-decline", args=[paid_readers.pk])
    client.force_login(auditor)
    body = client.get(page_url).content.decode()
    assert "Reading clubs." in body
    assert approve_url not in body
    assert client.post(approve_url).status_code == 403
    client.force_login(vetter)
    body = client.get(page_url).content.decode()
    assert approve_url in body
    assert decline_url in body
    assert client.post(decline_url, {"reason": ""}).status_code == 422
    assert client.post(approve_url).status_code == 302
    paid_readers.refresh_from_db()
    assert paid_readers.description == "Reading clubs."
    causes_url = reverse("donations:nonprofit-causes", args=[paid_readers.pk])
    assert client.post(causes_url, {"causes": ["health", "education"]}).status_code == 302
    paid_readers.refresh_from_db()
    assert paid_readers.causes == ["health", "education"]
    # The list of nonprofits links the page.
    assert page_url in client.get(reverse("donations:nonprofit-list")).content.decode()


def test_the_program_page_links_the_list(client):
    body = client.get(reverse("hub:program")).content.decode()
    assert f'href="{reverse("nonprofits:nonprofit-list")}"' in body
