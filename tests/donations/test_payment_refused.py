"""A payment the provider refused for good (a closed account): the grant's page leads with
what can fix it, asking the nonprofit for new payout details by a sign-in link that lands on
them; a retry to the same details warns first; the technical fields fold away. A paid
payment keeps no "last error"."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from donations.models import Disbursement, Grant, Nonprofit, NonprofitSignInLink
from donations.services import (
    disbursement_outcome_record,
    grant_approve,
    grants_schedule,
    payout_details_ask,
)
from tests.donations.payees import payee_changed
from tests.factories import (
    FundFactory,
    GrantFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("25000.00")
ASK = "Ask the nonprofit to update payout details"
UNCHANGED = (
    "The payout details have not changed since this failed: a retry will likely fail the same way."
)


@pytest.fixture
def fund(db):
    return FundFactory(total=Decimal("1000000.00"))


def paid_through(fund, staff, capture, *, payee: str) -> Grant:
    """A grant to a verified nonprofit with `payee` as its payout details, scheduled and paid
    through the sandbox (which fails, times out... as the payee says)."""
    nonprofit = NonprofitFactory(
        verification_status=Nonprofit.Verification.VERIFIED, payout_reference=payee
    )
    grant = grant_approve(
        grant=GrantFactory(fund=fund, nonprofit=nonprofit, amount=AMOUNT), actor=staff
    )
    with capture(execute=True):
        grants_schedule(grants=[grant.pk], actor=staff)
    return Grant.objects.select_related("disbursement", "nonprofit").get(pk=grant.pk)


@pytest.fixture
def refused(fund, staff_user, django_capture_on_commit_callbacks) -> Grant:
    grant = paid_through(fund, staff_user, django_capture_on_commit_callbacks, payee="sandbox-fail")
    NonprofitContactFactory(
        nonprofit=grant.nonprofit, name="Ada", user=UserFactory(email="ada@example.org")
    )
    return grant


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def page_of(client, grant: Grant) -> str:
    response = client.get(reverse("donations:grant-detail", args=[grant.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- Recording the refusal -------------------------------------------------------------------


def test_a_final_error_records_the_payee_it_refused(refused):
    disbursement = refused.disbursement
    assert refused.status == Grant.Status.FAILED
    assert disbursement.refused_final
    assert disbursement.refused_payee == disbursement.payee_fingerprint
    assert disbursement.refused_payee_unchanged


def test_a_payment_confirmed_not_made_is_not_a_refusal_for_good(
    fund, staff_user, django_capture_on_commit_callbacks, settings
):
    settings.PAYOUT_MAX_ATTEMPTS = 1
    grant = paid_through(
        fund, staff_user, django_capture_on_commit_callbacks, payee="sandbox-timeout"
    )
    disbursement_outcome_record(grant=grant, paid=False, note="Called them", actor=staff_user)

    disbursement = Disbursement.objects.get(grant=grant)
    assert disbursement.status == Disbursement.Status.FAILED
    assert not disbursement.refused_final


# --- Asking the nonprofit --------------------------------------------------------------------


def test_asking_emails_each_active_contact_a_link_that_says_why(
    refused, staff_user, django_capture_on_commit_callbacks
):
    NonprofitContactFactory(
        nonprofit=refused.nonprofit, user=UserFactory(email="gone@example.org", is_active=False)
    )
    with django_capture_on_commit_callbacks(execute=True):
        links = payout_details_ask(grant=refused, actor=staff_user)

    assert [link.contact.user.email for link in links] == ["ada@example.org"]
    assert links[0].purpose == NonprofitSignInLink.Purpose.PAYOUT_DETAILS
    assert links[0].grant_id == refused.pk
    (email,) = mail.outbox
    assert email.to == ["ada@example.org"]
    assert email.subject.startswith("Please update the payout details of")
    assert "account is closed" in email.body
    assert "update your payout details" in email.body
    event = AuditEvent.objects.for_object(refused).last()
    assert (event.action, event.actor, event.note) == (
        "payout_details_asked",
        staff_user,
        "Emailed to 1 contact.",
    )


def test_the_emailed_link_lands_the_contact_on_their_payout_details(
    refused, staff_user, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        payout_details_ask(grant=refused, actor=staff_user)
    path = re.search(r"https?://[^/\s]+(/nonprofit/sign-in/\S+)", mail.outbox[0].body)[1]

    response = client.post(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("nonprofit:details") + "#payout-title"


def test_asking_is_refused_for_a_payment_not_refused_for_good(fund, staff_user):
    grant = GrantFactory(fund=fund, status=Grant.Status.FAILED)
    with pytest.raises(ValidationError, match="refused for good"):
        payout_details_ask(grant=grant, actor=staff_user)


def test_asking_is_refused_when_the_nonprofit_has_no_active_contact(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = paid_through(fund, staff_user, django_capture_on_commit_callbacks, payee="sandbox-fail")
    with pytest.raises(ValidationError, match="no active contact"):
        payout_details_ask(grant=grant, actor=staff_user)


@pytest.mark.parametrize("role", [StaffRole.PROGRAM_MANAGER, StaffRole.AUDITOR])
def test_only_who_may_retry_or_send_links_asks(refused, role):
    with pytest.raises(ValidationError, match="do not let you"):
        payout_details_ask(grant=refused, actor=StaffFactory(roles=[role]))
    assert not NonprofitSignInLink.objects.exists()


@pytest.mark.parametrize("role", [StaffRole.FINANCE_APPROVER, StaffRole.NONPROFIT_VETTER])
def test_finance_and_vetters_may_ask(refused, role, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payout_details_ask(grant=refused, actor=StaffFactory(roles=[role]))
    assert len(mail.outbox) == 1


# --- The grant's page ------------------------------------------------------------------------


def test_a_refused_payment_leads_with_asking_for_new_details_and_folds_the_technical_ones(
    staff_client, refused
):
    html = page_of(staff_client, refused)

    panel = html.index('id="payment-refused"')
    assert html.index(ASK) > panel
    # What can fix it comes before the payment's facts and the history.
    assert panel < html.index("<h2>Payment</h2>") < html.index("<h2>History</h2>")
    # The retry is no main action: it waits behind a warning.
    assert html.index(ASK) < html.index("Retry anyway")
    assert "Retry payment</button>" not in html
    assert UNCHANGED in html
    # Links to what a person needs next.
    assert reverse("donations:nonprofit-contacts", args=[refused.nonprofit_id]) in html
    assert reverse("donations:payout-change-list") in html
    # The provider's key and raw error live inside the folded technical details only.
    technical = re.search(r'<details class="technical-details".*?</details>', html, re.S)[0]
    disbursement = refused.disbursement
    assert disbursement.idempotency_key in technical
    assert html.count(disbursement.idempotency_key) == 1
    assert "Technical details" in technical
    assert "error, as sent" in technical


def test_no_warning_once_the_payout_details_changed(staff_client, refused):
    payee_changed(refused, "acct-fixed")

    html = page_of(staff_client, refused)

    assert UNCHANGED not in html
    assert "The payout details have changed since this failed" in html
    assert "Retry payment</button>" in html


def test_a_failure_that_is_not_final_keeps_retry_as_its_main_action(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks, settings
):
    settings.PAYOUT_MAX_ATTEMPTS = 1
    grant = paid_through(
        fund, staff_user, django_capture_on_commit_callbacks, payee="sandbox-timeout"
    )
    disbursement_outcome_record(grant=grant, paid=False, note="Called them", actor=staff_user)

    html = page_of(staff_client, grant)

    assert "Retry payment</button>" in html
    assert ASK not in html
    assert 'id="payment-refused"' not in html
    assert '<details class="technical-details"' in html


def test_the_pipeline_row_of_a_refused_payment_leads_to_the_fix_not_a_retry(staff_client, refused):
    html = staff_client.get(reverse("donations:grant-list"), {"status": "failed"}).content
    row = re.search(rf'<tr id="grant-{refused.pk}".*?</tr>', html.decode(), re.S)[0]
    assert "Ask for new payout details…" in row
    assert "Retry payment" not in row


def test_asking_from_the_page_with_htmx_confirms_in_place(
    staff_client, refused, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("donations:grant-payout-details-ask", args=[refused.pk]),
            headers={"HX-Request": "true", "HX-Target": "grant-detail"},
        )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="action-done"' in html
    assert "are emailed a link to update their payout details" in html
    assert "Asked once, last on" in html
    assert "Ask the nonprofit again to update payout details" in html
    assert len(mail.outbox) == 1


def test_asking_without_javascript_redirects_back_with_the_message(
    staff_client, refused, django_capture_on_commit_callbacks
):
    url = reverse("donations:grant-detail", args=[refused.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("donations:grant-payout-details-ask", args=[refused.pk]),
            {"next": url},
            follow=True,
        )
    assert response.redirect_chain[-1][0].startswith(url)
    assert "are emailed a link to update their payout details" in response.content.decode()


def test_a_program_manager_cannot_ask(client, refused):
    client.force_login(StaffFactory(roles=[StaffRole.PROGRAM_MANAGER]))
    response = client.post(
        reverse("donations:grant-payout-details-ask", args=[refused.pk]),
        headers={"HX-Request": "true", "HX-Target": "grant-detail"},
    )
    assert response.status_code == 403
    assert not NonprofitSignInLink.objects.exists()


def test_a_nonprofit_contact_cannot_ask(client, refused):
    client.force_login(refused.nonprofit.contacts.get().user)
    response = client.post(reverse("donations:grant-payout-details-ask", args=[refused.pk]))
    assert response.status_code == 403
    assert not NonprofitSignInLink.objects.exists()


def test_the_refused_page_reads_in_a_fixed_number_of_queries(
    staff_client, refused, staff_user, django_assert_max_num_queries
):
    payout_details_ask(grant=refused, actor=staff_user)
    with django_assert_max_num_queries(16):
        page_of(staff_client, refused)


# --- A paid payment keeps no last error ------------------------------------------------------


def test_a_payment_paid_after_an_error_keeps_no_last_error_in_the_export(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    grant = paid_through(
        fund, staff_user, django_capture_on_commit_callbacks, payee="sandbox-flaky"
    )
    disbursement = Disbursement.objects.get(grant=grant)
    assert disbursement.status == Disbursement.Status.SUCCEEDED
    assert disbursement.attempts == 2  # the first attempt failed
    assert disbursement.last_error == ""
    # The error stays in the grant's history.
    assert AuditEvent.objects.for_object(grant).filter(action="payment_error").exists()

    response = staff_client.get(reverse("backoffice:export-grants"))
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    (row,) = [row for row in rows if row["Grant"] == str(grant.pk)]
    assert row["Payment status"] == "succeeded"
    assert row["Last error"] == ""
    assert "What went wrong" not in page_of(staff_client, grant)


def test_a_failed_payment_exports_its_error(
    staff_client, refused, django_capture_on_commit_callbacks
):
    response = staff_client.get(reverse("backoffice:export-grants"))
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    (row,) = [row for row in rows if row["Grant"] == str(refused.pk)]
    assert "account is closed" in row["Last error"]
