"""The nonprofit's pages: only its own grants, their timeline, receipt confirmation, the
printable acknowledgement, its details, and payout changes that wait for staff review."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from changemakers.core.models import AuditEvent
from donations.models import Grant, Nonprofit, PayoutDetailsChange
from donations.selectors import grant_timeline
from donations.services import (
    disbursement_pay,
    disbursement_record_error,
    grant_approve,
    grant_propose,
    grant_receipt_confirm,
    grant_retry,
    grant_schedule,
    nonprofit_contact_update,
    nonprofit_details_update,
    nonprofit_verify,
    payout_change_approve,
    payout_change_reject,
    payout_change_request,
)
from tests.factories import (
    CreatorFactory,
    FundFactory,
    GrantFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def nonprofit(staff_user):
    return nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Readers of Nairobi", payout_reference="acct-1234"),
        actor=staff_user,
    )


@pytest.fixture
def contact(nonprofit):
    return NonprofitContactFactory(nonprofit=nonprofit)


@pytest.fixture
def other_contact(staff_user):
    other = nonprofit_verify(nonprofit=NonprofitFactory(legal_name="Other Org"), actor=staff_user)
    return NonprofitContactFactory(nonprofit=other)


@pytest.fixture
def fund(db):
    return FundFactory(name="Change Makers Fund 2026")


def _paid_grant(nonprofit, fund, staff_user, proposer_user, *, creator=None) -> Grant:
    grant = grant_propose(
        fund=fund,
        nonprofit=nonprofit,
        amount="25000.00",
        creator=creator or CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads"),
        purpose="Donation in the name of Wanjiru Kamau",
        actor=proposer_user,
    )
    grant = grant_approve(grant=grant, actor=staff_user)
    grant = grant_schedule(grant=grant, actor=staff_user)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    return Grant.objects.get(pk=grant.pk)


@pytest.fixture
def paid(nonprofit, fund, staff_user, proposer_user):
    return _paid_grant(nonprofit, fund, staff_user, proposer_user)


def _urls(grant_pk: int) -> list[tuple[str, str]]:
    return [
        ("get", "/nonprofit/"),
        ("get", f"/nonprofit/grants/{grant_pk}/"),
        ("post", f"/nonprofit/grants/{grant_pk}/confirm-receipt/"),
        ("get", f"/nonprofit/grants/{grant_pk}/receipt/"),
        ("get", "/nonprofit/details/"),
        ("post", "/nonprofit/details/"),
        ("get", "/nonprofit/password/"),
        ("post", "/nonprofit/password/"),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, paid):
    for method, url in _urls(paid.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/"), url


@pytest.mark.parametrize("who", ["creator", "staff"])
def test_creators_and_staff_are_refused(client, paid, who, creator_user, staff_user):
    # Staff have their own pages for every grant; these are the nonprofit's own view.
    client.force_login(creator_user if who == "creator" else staff_user)
    for method, url in _urls(paid.pk):
        data = {"section": "payout", "payout-payout_reference": "acct-evil"}
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 403, url
    paid.refresh_from_db()
    assert paid.receipt_confirmed_at is None
    assert not PayoutDetailsChange.objects.exists()


def test_another_nonprofits_contact_gets_404_and_changes_nothing(client, paid, other_contact):
    client.force_login(other_contact.user)

    for url in (
        f"/nonprofit/grants/{paid.pk}/",
        f"/nonprofit/grants/{paid.pk}/receipt/",
        f"/nonprofit/grants/{paid.pk + 1000}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/nonprofit/grants/{paid.pk}/confirm-receipt/").status_code == 404
    page = client.get("/nonprofit/").content.decode()
    assert "Wanjiru Kamau" not in page
    assert "No grant to your organisation yet" in page
    paid.refresh_from_db()
    assert paid.receipt_confirmed_at is None
    assert not AuditEvent.objects.filter(action="receipt_confirmed").exists()


def test_the_list_shows_own_grants_with_amount_creator_fund_and_status(client, paid, contact):
    client.force_login(contact.user)

    page = client.get("/nonprofit/").content.decode()

    assert "$25,000.00" in page
    assert "Wanjiru Kamau" in page
    assert "/creators/wanjiru.reads/" in page
    assert "Change Makers Fund 2026" in page
    assert "Disbursed" in page


def test_the_list_answers_in_the_same_queries_for_2_and_30_grants(
    client, contact, fund, django_assert_num_queries
):
    client.force_login(contact.user)
    for _ in range(2):
        GrantFactory(nonprofit=contact.nonprofit, fund=fund)
    # session, user, creator?, contact, its nonprofit, count, page of grants
    with django_assert_num_queries(7):
        small = client.get("/nonprofit/")
    for _ in range(28):
        GrantFactory(nonprofit=contact.nonprofit, fund=fund)
    with django_assert_num_queries(7):
        large = client.get("/nonprofit/")
    assert small.status_code == large.status_code == 200
    assert large.content.decode().count("/nonprofit/grants/") == 20  # one page


def test_the_timeline_shows_each_step_and_the_reference_but_no_payment_errors(
    client, nonprofit, fund, staff_user, contact, proposer_user
):
    grant = grant_propose(
        fund=fund, nonprofit=nonprofit, amount="1000.00", creator=None, actor=proposer_user
    )
    grant = grant_approve(grant=grant, actor=staff_user)
    grant = grant_schedule(grant=grant, actor=staff_user)
    disbursement = grant.disbursement
    from donations.services.payments import _claim

    _claim(disbursement.pk)
    disbursement_record_error(disbursement=disbursement, error="Bank gateway timeout 504")
    disbursement_pay(disbursement_id=disbursement.pk)
    client.force_login(contact.user)

    page = client.get(f"/nonprofit/grants/{grant.pk}/").content.decode()

    for step in ("Proposed", "Approved", "Scheduled for payment", "Payment sent", "Paid"):
        assert step in page
    assert "Bank gateway timeout" not in page
    assert "Attempt" not in page
    grant.disbursement.refresh_from_db()
    assert grant.disbursement.provider_reference in page
    assert "Confirm we received it" in page


def test_confirming_receipt_in_place_shows_received(client, paid, contact):
    client.force_login(contact.user)

    response = client.post(
        f"/nonprofit/grants/{paid.pk}/confirm-receipt/", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response  # the swapped progress is all that changes
    body = response.content.decode()
    assert 'id="grant-progress"' in body
    assert "Received" in body
    assert "Confirm we received it" not in body
    paid.refresh_from_db()
    assert paid.receipt_confirmed_by == contact.user
    event = AuditEvent.objects.for_object(paid).get(action="receipt_confirmed")
    assert event.actor == contact.user


def test_receipt_is_confirmed_once(paid, contact):
    first = grant_receipt_confirm(grant=paid, actor=contact.user)
    second = grant_receipt_confirm(grant=paid, actor=contact.user)

    assert second.receipt_confirmed_at == first.receipt_confirmed_at
    assert AuditEvent.objects.filter(action="receipt_confirmed").count() == 1


def test_an_unpaid_grant_cannot_be_confirmed(
    client, nonprofit, fund, staff_user, contact, proposer_user
):
    grant = grant_approve(
        grant=grant_propose(fund=fund, nonprofit=nonprofit, amount="10.00", actor=proposer_user),
        actor=staff_user,
    )
    with pytest.raises(ValidationError):
        grant_receipt_confirm(grant=grant, actor=contact.user)

    client.force_login(contact.user)
    response = client.post(f"/nonprofit/grants/{grant.pk}/confirm-receipt/")
    assert response.status_code == 302
    in_place = client.post(
        f"/nonprofit/grants/{grant.pk}/confirm-receipt/", headers={"HX-Request": "true"}
    )
    assert in_place.status_code == 422  # the refusal, swapped in place
    assert 'role="alert"' in in_place.content.decode()
    assert "HX-Trigger" not in in_place
    assert client.get(f"/nonprofit/grants/{grant.pk}/receipt/").status_code == 404
    grant.refresh_from_db()
    assert grant.receipt_confirmed_at is None


def test_the_database_refuses_a_receipt_on_an_unpaid_grant(fund, nonprofit, contact):
    grant = GrantFactory(fund=fund, nonprofit=nonprofit)
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(receipt_confirmed_at=timezone.now())


def test_the_receipt_page_shows_what_was_paid_and_received(client, paid, contact):
    grant_receipt_confirm(grant=paid, actor=contact.user)
    client.force_login(contact.user)

    page = client.get(f"/nonprofit/grants/{paid.pk}/receipt/").content.decode()

    assert "Grant acknowledgement" in page
    assert "Readers of Nairobi" in page
    assert "USD 25,000.00" in page
    assert "Wanjiru Kamau" in page
    assert paid.disbursement.provider_reference in page
    assert "Not confirmed yet" not in page


def test_staff_and_the_creator_see_the_receipt(client, paid, contact, staff_user):
    grant_receipt_confirm(grant=paid, actor=contact.user)
    client.force_login(staff_user)
    assert "confirmed by the nonprofit" in client.get(f"/staff/grants/{paid.pk}/").content.decode()


def test_the_contact_updates_their_details_and_the_organisations(client, contact):
    client.force_login(contact.user)

    mine = client.post(
        "/nonprofit/details/",
        {
            "section": "contact",
            "contact-name": "Amani Njeri",
            "contact-job_title": "Grants lead",
            "contact-phone": "+254 700 000000",
            "contact-language": "fr",
        },
    )
    theirs = client.post(
        "/nonprofit/details/",
        {
            "section": "organisation",
            "organisation-contact_email": "hello@readers.example",
            "organisation-website": "https://readers.example",
        },
    )

    assert mine.status_code == theirs.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.job_title, contact.language) == (
        "Amani Njeri",
        "Grants lead",
        "fr",
    )
    nonprofit = Nonprofit.objects.get(pk=contact.nonprofit_id)
    assert nonprofit.contact_email == "hello@readers.example"
    assert AuditEvent.objects.for_object(nonprofit).filter(action="updated").exists()


def test_a_payout_change_is_never_applied_before_staff_approve(client, contact, nonprofit):
    client.force_login(contact.user)

    response = client.post(
        "/nonprofit/details/", {"section": "payout", "payout-payout_reference": "acct-9876"}
    )

    assert response.status_code == 302
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-1234"
    change = PayoutDetailsChange.objects.get()
    assert change.status == PayoutDetailsChange.Status.PENDING
    assert AuditEvent.objects.for_object(nonprofit).filter(action="change_requested").exists()
    page = client.get("/nonprofit/details/").content.decode()
    assert "acct-1234" not in page  # masked
    assert "acct-9876" not in page
    assert "••••1234" in page
    assert "••••9876" in page
    assert "waiting for the program team" in page

    again = client.post(
        "/nonprofit/details/", {"section": "payout", "payout-payout_reference": "acct-5555"}
    )
    assert again.status_code == 422
    assert PayoutDetailsChange.objects.count() == 1


def test_staff_approve_a_payout_change_in_place(client, contact, nonprofit, staff_user):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-9876", actor=contact.user
    )
    client.force_login(staff_user)
    assert "acct-9876" in client.get("/staff/payout-changes/").content.decode()

    response = client.post(
        f"/staff/payout-changes/{change.pk}/approve/", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "Approved" in response.content.decode()
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-9876"
    change.refresh_from_db()
    assert (change.status, change.reviewed_by) == ("approved", staff_user)


def test_staff_reject_a_payout_change_with_a_reason(contact, nonprofit, staff_user, client):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-9876", actor=contact.user
    )
    client.force_login(staff_user)

    no_reason = client.post(f"/staff/payout-changes/{change.pk}/reject/", {"reason": ""})
    assert no_reason.status_code == 302
    change.refresh_from_db()
    assert change.status == "pending"

    client.post(f"/staff/payout-changes/{change.pk}/reject/", {"reason": "Not verified by phone"})
    change.refresh_from_db()
    assert (change.status, change.reason) == ("rejected", "Not verified by phone")
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-1234"
    with pytest.raises(ValidationError):
        payout_change_approve(change=change, actor=staff_user)


@pytest.mark.parametrize("who", ["anonymous", "creator", "nonprofit"])
def test_only_staff_review_payout_changes(client, who, contact, nonprofit, creator_user):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-9876", actor=contact.user
    )
    if who == "creator":
        client.force_login(creator_user)
    elif who == "nonprofit":
        client.force_login(contact.user)
    expected = 302 if who == "anonymous" else 403

    assert client.get("/staff/payout-changes/").status_code == expected
    assert client.post(f"/staff/payout-changes/{change.pk}/approve/").status_code == expected
    assert (
        client.post(f"/staff/payout-changes/{change.pk}/reject/", {"reason": "x"}).status_code
        == expected
    )
    change.refresh_from_db()
    nonprofit.refresh_from_db()
    assert (change.status, nonprofit.payout_reference) == ("pending", "acct-1234")


def test_a_contact_cannot_request_for_another_nonprofit(contact, other_contact):
    with pytest.raises(ValidationError):
        payout_change_request(
            nonprofit=other_contact.nonprofit, payout_reference="acct-evil", actor=contact.user
        )
    assert not PayoutDetailsChange.objects.exists()


def test_staff_review_page_answers_in_the_same_queries(
    client, staff_user, django_assert_num_queries
):
    client.force_login(staff_user)

    def add(n):
        for _ in range(n):
            contact = NonprofitContactFactory()
            payout_change_request(
                nonprofit=contact.nonprofit, payout_reference="acct-new", actor=contact.user
            )

    add(2)
    # The page's five, and the staff navigation's work queues (one, for all its badges).
    with django_assert_num_queries(6):
        client.get("/staff/payout-changes/")
    add(20)
    with django_assert_num_queries(6):
        client.get("/staff/payout-changes/")


def test_payout_change_reject_needs_a_reason(contact, nonprofit, staff_user):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-9876", actor=contact.user
    )
    with pytest.raises(ValidationError):
        payout_change_reject(change=change, reason="  ", actor=staff_user)


def test_confirming_receipt_without_javascript_redirects_with_a_message(client, paid, contact):
    client.force_login(contact.user)

    response = client.post(f"/nonprofit/grants/{paid.pk}/confirm-receipt/", follow=True)

    assert response.redirect_chain == [(f"/nonprofit/grants/{paid.pk}/", 302)]
    page = response.content.decode()
    assert "the grant is confirmed as received" in page
    assert "Confirm we received it" not in page


def test_the_creator_sees_that_the_nonprofit_received_it(client, paid, contact):
    grant_receipt_confirm(grant=paid, actor=contact.user)
    paid.creator.user = UserFactory()
    paid.creator.save()
    client.force_login(paid.creator.user)

    page = client.get("/portal/donation/").content.decode()

    assert "Readers of Nairobi confirmed on" in page
    assert "Receipt confirmed" in page


def test_after_a_retry_the_timeline_shows_no_step_ahead_of_where_the_grant_stands(
    client, fund, staff_user, contact, proposer_user
):
    nonprofit = contact.nonprofit
    nonprofit.payout_reference = "sandbox-fail"
    nonprofit.save()
    grant = grant_propose(
        fund=fund, nonprofit=nonprofit, amount="1000.00", creator=None, actor=proposer_user
    )
    grant = grant_schedule(grant=grant_approve(grant=grant, actor=staff_user), actor=staff_user)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.FAILED
    nonprofit.payout_reference = "acct-fixed"
    nonprofit.save()
    grant = grant_retry(grant=Grant.objects.get(pk=grant.pk), actor=staff_user)  # not paid yet

    steps = {step.code: step for step in grant_timeline(grant)}
    assert steps["scheduled"].current
    assert steps["scheduled"].date is not None
    # The first attempt's "payment sent" is history, not where this grant stands now.
    assert steps["processing"].date is None
    assert steps["disbursed"].date is None
    client.force_login(contact.user)
    page = client.get(f"/nonprofit/grants/{grant.pk}/").content.decode()
    assert page.count("timeline__item--approved") == 3  # proposed, approved, scheduled


@pytest.mark.parametrize("gone", ["moved", "removed", "switched_off"])
def test_a_payout_change_from_someone_no_longer_a_contact_cannot_be_approved(
    contact, nonprofit, other_contact, staff_user, gone
):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-9876", actor=contact.user
    )
    if gone == "moved":
        contact.nonprofit = other_contact.nonprofit
        contact.save()
    elif gone == "removed":
        contact.delete()
    else:
        contact.user.is_active = False
        contact.user.save()

    with pytest.raises(ValidationError, match="no longer signs in for"):
        payout_change_approve(change=change, actor=staff_user)

    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-1234"
    change.refresh_from_db()
    assert change.status == PayoutDetailsChange.Status.PENDING  # for staff to reject


def test_saving_contact_details_audits_only_what_changed(contact):
    contact.name, contact.job_title, contact.phone = "Amani Njeri", "Grants lead", ""
    contact.save()
    same = {"name": "Amani Njeri", "job_title": "Grants lead", "phone": "", "language": "en"}

    nonprofit_contact_update(contact=contact, actor=contact.user, **same)
    nonprofit_contact_update(contact=contact, actor=contact.user, **{**same, "phone": "+254 7"})

    events = AuditEvent.objects.for_object(contact).filter(action="updated")
    assert [event.note for event in events] == ["phone"]


def test_staff_are_warned_when_the_contact_email_changed_just_before_a_payout_change(
    client, contact, other_contact, staff_user
):
    # Staff check a payout change "through a channel they already trust": the organisation's
    # contact email is no such channel if the requester has just changed it.
    nonprofit_details_update(
        nonprofit=contact.nonprofit,
        contact_email="finance@lookalike.example",
        actor=contact.user,
    )
    payout_change_request(
        nonprofit=contact.nonprofit, payout_reference="acct-9876", actor=contact.user
    )
    payout_change_request(  # another nonprofit, details untouched
        nonprofit=other_contact.nonprofit, payout_reference="acct-5555", actor=other_contact.user
    )
    client.force_login(staff_user)

    page = client.get("/staff/payout-changes/").content.decode()

    assert page.count("contact email was changed") == 1
    warned = page.split(f'id="payout-change-{contact.nonprofit.payout_changes.get().pk}"')[1]
    assert "contact email was changed" in warned.split("</tr>")[0]
