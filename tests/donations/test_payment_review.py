"""Money confirmed before it moves: the review of a payment (count, totals per currency and
fund, nonprofits, masked payees) and the digest that makes the set paid exactly the set
reviewed; select all; a batch page's grants, totals and CSV; and the confirmation of
cancelling a grant and rejecting a nonprofit (a page without JavaScript, a fragment for
htmx; the POST unchanged)."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemakers.core.roles import StaffRole
from donations.models import DisbursementBatch, Grant, Nonprofit, grants_digest
from donations.models.money import money_format
from donations.services import grant_approve, grant_cancel, grants_schedule
from tests.donations.bank import bank_nonprofit
from tests.donations.payees import payee_changed
from tests.factories import FundFactory, GrantFactory, NonprofitFactory, StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "confirm-dialog-body"}
AMOUNT = Decimal("25000.00")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def fund(db):
    return FundFactory(name="Fund 2026", total=Decimal("1000000.00"), currency="USD")


def approved(fund, staff, **kwargs) -> Grant:
    kwargs.setdefault(
        "nonprofit", NonprofitFactory(verification_status=Nonprofit.Verification.VERIFIED)
    )
    return grant_approve(grant=GrantFactory(fund=fund, **kwargs), actor=staff)


def fresh(*grants: Grant) -> list[Grant]:
    return list(Grant.objects.filter(pk__in=[grant.pk for grant in grants]))


def text(response) -> str:
    return response.content.decode()


def review_url(*grants: Grant) -> str:
    return reverse("donations:grants-review") + "?" + "&".join(f"grants={g.pk}" for g in grants)


def digest_on(page: str) -> str:
    return re.search(r'name="expected" value="([0-9a-f]{64})"', page).group(1)


# --- The service: the set paid is the set reviewed ---------------------------------------------


def test_schedule_pays_exactly_the_reviewed_grants(fund, staff_user):
    first, second = approved(fund, staff_user), approved(fund, staff_user)
    batch = grants_schedule(
        grants=[first, second], actor=staff_user, expected=grants_digest(fresh(first, second))
    )
    assert batch.size == 2
    assert {g.status for g in fresh(first, second)} == {Grant.Status.SCHEDULED}


@pytest.mark.parametrize("change", ["cancelled", "amount", "payee"])
def test_schedule_refuses_when_a_grant_changed_since_its_review(fund, staff_user, change):
    first, second = approved(fund, staff_user), approved(fund, staff_user)
    expected = grants_digest(fresh(first, second))
    if change == "cancelled":
        grant_cancel(grant=second, actor=staff_user, reason="Not needed any more.")
    elif change == "amount":
        Grant.objects.filter(pk=second.pk).update(amount=Decimal("24000.00"))
    else:
        payee_changed(second, "acct-changed-9999")

    with pytest.raises(ValidationError) as refused:
        grants_schedule(grants=[first, second], actor=staff_user, expected=expected)

    assert refused.value.code == "review_changed"
    assert "changed since you reviewed them" in refused.value.messages[0]
    assert not DisbursementBatch.objects.exists()
    assert Grant.objects.get(pk=first.pk).status == Grant.Status.APPROVED


# --- The review page ----------------------------------------------------------------------------


def test_review_shows_count_totals_per_fund_and_currency_and_masked_payees(
    staff_client, fund, staff_user
):
    stripe = NonprofitFactory(
        legal_name="Code Nairobi",
        verification_status=Nonprofit.Verification.VERIFIED,
        payout_reference="acct_1DemoAcct9876",
    )
    euros = FundFactory(name="Fonds Europe", total=Decimal("100000.00"), currency="EUR")
    grants = [
        approved(fund, staff_user, nonprofit=stripe),
        approved(fund, staff_user),
        approved(fund, staff_user, amount=Decimal("140000.00")),
        approved(euros, staff_user, amount=Decimal("10000.00")),
        approved(fund, staff_user, nonprofit=bank_nonprofit()),
    ]
    left_out = GrantFactory(fund=fund)  # proposed: not paid, said so

    page = text(staff_client.get(review_url(*grants, left_out)))

    usd = money_format(Decimal("215000.00"), "USD")
    assert f"4 grants, {usd} from Fund 2026" in page
    assert f"1 grant, {money_format(Decimal('10000.00'), 'EUR')} from Fonds Europe" in page
    assert "Total in USD" in page
    assert "Total in EUR" in page
    assert "1 ticked grant is no longer approved" in page
    assert "Code Nairobi" in page
    assert "Readers of Nairobi" in page
    assert "Stripe account acct_…9876" in page
    assert "acct_1DemoAcct9876" not in page
    assert re.search(r"bank account ending ••\d{4}", page)
    assert "Pay 5 grants" in page
    assert page.count('name="grants"') == 5
    assert f'name="grants" value="{left_out.pk}"' not in page
    assert digest_on(page) == grants_digest(fresh(*grants))


def test_pay_refuses_and_shows_the_review_again_when_a_grant_was_cancelled_meanwhile(
    staff_client, fund, staff_user
):
    first, second = approved(fund, staff_user), approved(fund, staff_user)
    page = text(staff_client.get(review_url(first, second)))
    grant_cancel(grant=second, actor=staff_user, reason="The nonprofit closed.")

    response = staff_client.post(
        reverse("donations:grants-schedule"),
        {"grants": [first.pk, second.pk], "expected": digest_on(page)},
    )

    again = text(response)
    assert response.status_code == 422
    assert "changed since you reviewed them" in again
    assert "Pay 1 grant" in again  # the review as it is now
    assert "1 ticked grant is no longer approved" in again
    assert not DisbursementBatch.objects.exists()


def test_review_then_pay_goes_to_the_batch(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    grants = [approved(fund, staff_user) for _ in range(2)]
    page = text(staff_client.get(review_url(*grants)))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("donations:grants-schedule"),
            {"grants": [g.pk for g in grants], "expected": digest_on(page)},
        )
    batch = DisbursementBatch.objects.get()
    assert response.url == reverse("donations:batch-detail", args=[batch.pk])
    assert batch.size == 2


def test_review_answers_in_the_same_number_of_queries_for_more_grants(
    staff_client, fund, staff_user, django_assert_max_num_queries
):
    few = [approved(fund, staff_user) for _ in range(2)]
    staff_client.get(review_url(*few))  # sessions, permissions cached
    with django_assert_max_num_queries(8) as first:
        staff_client.get(review_url(*few))
    many = few + [approved(fund, staff_user) for _ in range(8)]
    with django_assert_max_num_queries(len(first.captured_queries)):
        staff_client.get(review_url(*many))


@pytest.mark.parametrize("role", [StaffRole.PROGRAM_MANAGER, StaffRole.AUDITOR])
def test_only_who_schedules_payments_may_review_one(client, fund, staff_user, role):
    grant = approved(fund, staff_user)
    client.force_login(StaffFactory(roles=[role]))
    assert client.get(review_url(grant)).status_code == 403


def test_select_all_without_javascript_ticks_every_approved_grant(staff_client, fund, staff_user):
    grants = [approved(fund, staff_user) for _ in range(3)]
    proposed = GrantFactory(fund=fund)
    page = text(staff_client.get(reverse("donations:grant-list") + "?select=all"))
    for grant in grants:
        assert (
            f'value="{grant.pk}" form="schedule-selected" id="select-grant-{grant.pk}" checked'
            in (page)
        )
    assert f'value="{proposed.pk}" form="schedule-selected"' not in page
    assert 'data-select-all="grants"' in page
    plain = text(staff_client.get(reverse("donations:grant-list")))
    assert " checked" not in plain.split('id="schedule-selected"')[0].split("<tbody>")[1]


# --- A batch's page: its grants, their totals, their CSV ----------------------------------------


@pytest.fixture
def paid_batch(fund, staff_user, django_capture_on_commit_callbacks):
    grants = [approved(fund, staff_user) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        return grants_schedule(grants=grants, actor=staff_user)


def test_batch_page_lists_its_grants_with_references_and_a_total(staff_client, paid_batch):
    page = text(staff_client.get(reverse("donations:batch-detail", args=[paid_batch.pk])))
    lines = list(paid_batch.disbursements.select_related("grant__nonprofit"))
    assert "3 grants in this batch" in page
    for line in lines:
        assert f'id="batch-line-{line.grant_id}"' in page
        assert line.grant.nonprofit.legal_name in page
        assert line.provider_reference
        assert line.provider_reference in page
    assert "Total in USD (3 grants)" in page
    assert money_format(3 * AMOUNT, "USD") in page
    assert reverse("donations:batch-lines-csv", args=[paid_batch.pk]) in page


def test_batch_page_shows_the_banks_reference_of_a_transfer_made_by_hand(
    staff_client, fund, staff_user
):
    from donations.models import PaymentInstruction
    from donations.services import payment_instruction_record_sent
    from tests.donations.bank import superuser

    grant = approved(fund, staff_user, nonprofit=bank_nonprofit())
    batch = grants_schedule(grants=[grant], actor=staff_user)
    payment_instruction_record_sent(
        instruction=PaymentInstruction.objects.get(),
        bank_reference="FT-2026-0042",
        actor=superuser("recorder"),
    )
    page = text(staff_client.get(reverse("donations:batch-detail", args=[batch.pk])))
    assert "Bank&#x27;s reference FT-2026-0042" in page or "Bank's reference FT-2026-0042" in page


def test_batch_page_queries_do_not_grow_with_its_grants(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    def batch_of(count):
        grants = [approved(fund, staff_user) for _ in range(count)]
        with django_capture_on_commit_callbacks(execute=True):
            return grants_schedule(grants=grants, actor=staff_user)

    def queries(batch) -> int:
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse("donations:batch-detail", args=[batch.pk]))
        return len(captured)

    small, large = batch_of(1), batch_of(6)
    queries(small)  # the session and permissions, once
    assert queries(large) == queries(small) <= 12


def test_batch_csv_has_a_line_per_grant(staff_client, paid_batch):
    response = staff_client.get(reverse("donations:batch-lines-csv", args=[paid_batch.pk]))
    body = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["batch", "grant", "nonprofit"]
    assert len(rows) == 4
    grant_ids = {str(pk) for pk in paid_batch.disbursements.values_list("grant_id", flat=True)}
    assert {row[1] for row in rows[1:]} == grant_ids
    assert {row[5] for row in rows[1:]} == {"25000.00"}
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("role", [StaffRole.NONPROFIT_VETTER])
def test_batch_csv_is_for_who_reads_the_batch(client, paid_batch, role):
    client.force_login(StaffFactory(roles=[role]))
    assert client.get(reverse("donations:batch-lines-csv", args=[paid_batch.pk])).status_code == 403
    assert client.get(reverse("donations:batch-detail", args=[paid_batch.pk])).status_code == 403


# --- Confirming cancelling a grant and rejecting a nonprofit -------------------------------------


def test_cancelling_a_grant_asks_first_on_a_page_and_in_a_fragment(staff_client, fund, staff_user):
    grant = approved(fund, staff_user)
    url = reverse("donations:grant-cancel", args=[grant.pk])

    page = staff_client.get(url)
    fragment = staff_client.get(url, headers=HTMX)

    for response in (page, fragment):
        body = text(response)
        assert response.status_code == 200
        assert "Cancel the grant of" in body
        assert "goes back to Fund 2026" in body
        assert f'action="{url}"' in body
        assert 'name="reason"' in body
        assert "csrfmiddlewaretoken" in body
    assert "<html" in text(page)
    assert "<html" not in text(fragment)
    assert response["Vary"].count("HX-Request") == 1
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.APPROVED

    done = staff_client.post(url, {"reason": "The nonprofit closed."})
    assert done.status_code == 302
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.CANCELLED


def test_the_cancel_button_links_to_its_confirmation(staff_client, fund, staff_user):
    grant = approved(fund, staff_user)
    page = text(staff_client.get(reverse("donations:grant-list")))
    url = reverse("donations:grant-cancel", args=[grant.pk])
    assert f'href="{url}?next=' in page
    assert f'data-hx-get="{url}?next=' in page
    assert 'data-hx-target="#confirm-dialog-body"' in page
    assert 'id="confirm-dialog"' in page


def test_rejecting_a_nonprofit_says_what_happens_to_its_grants(staff_client, fund, staff_user):
    nonprofit = NonprofitFactory(
        legal_name="Shell Aid", verification_status=Nonprofit.Verification.VERIFIED
    )
    GrantFactory(fund=fund, nonprofit=nonprofit)
    approved(fund, staff_user, nonprofit=nonprofit)
    url = reverse("donations:nonprofit-reject", args=[nonprofit.pk])

    body = text(staff_client.get(url))

    assert "Reject Shell Aid?" in body
    assert "Its 1 proposed grant is cancelled." in body
    assert "Its 1 approved grant not paid yet is put on hold" in body
    assert Nonprofit.objects.get(pk=nonprofit.pk).verification_status == "verified"
    staff_client.post(url, {"reason": "Not a registered charity."})
    assert Nonprofit.objects.get(pk=nonprofit.pk).verification_status == "rejected"


@pytest.mark.parametrize(
    ("name", "role"),
    [("grant-cancel", StaffRole.PROGRAM_MANAGER), ("nonprofit-reject", StaffRole.FINANCE_APPROVER)],
)
def test_confirmations_are_for_who_may_act(client, fund, staff_user, name, role):
    grant = approved(fund, staff_user)
    pk = grant.pk if name == "grant-cancel" else grant.nonprofit_id
    client.force_login(StaffFactory(roles=[role]))
    assert client.get(reverse(f"donations:{name}", args=[pk])).status_code == 403
