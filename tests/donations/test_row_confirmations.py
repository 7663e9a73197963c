"""A row action says what it did in the row itself, in words, and in the page's live region
for screen readers: the grants pipeline, nonprofit vetting, payout-change review."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from donations.models import Nonprofit
from donations.services import payout_change_request
from tests.factories import (
    FundFactory,
    GrantFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def htmx(target: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": target}


def row_and_live_region(html: str, row_id: str) -> tuple[str, str]:
    row = re.search(rf'<tr id="{row_id}".*?</tr>', html, re.S)[0]
    live = re.search(r'<div id="action-status" data-hx-swap-oob="innerHTML">(.*?)</div>', html)[1]
    return row, live


def done_in(row: str) -> str:
    return re.search(r'<p class="action-done">(.*?)</p>', row)[1]


def test_approving_a_grant_confirms_in_its_row(staff_client):
    grant = GrantFactory(
        fund=FundFactory(total=Decimal("100000.00")),
        nonprofit=NonprofitFactory(
            legal_name="Open Medicine", verification_status=Nonprofit.Verification.VERIFIED
        ),
    )
    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=htmx(f"grant-{grant.pk}")
    )
    row, live = row_and_live_region(response.content.decode(), f"grant-{grant.pk}")
    assert done_in(row) == "The grant to Open Medicine is approved."
    assert live == "The grant to Open Medicine is approved."


def test_a_refused_row_action_shows_no_confirmation(staff_client):
    grant = GrantFactory(nonprofit=NonprofitFactory())  # not verified: refused
    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=htmx(f"grant-{grant.pk}")
    )
    assert response.status_code == 422
    assert 'class="action-done"' not in response.content.decode()


def test_verifying_a_nonprofit_confirms_in_its_row(staff_client):
    nonprofit = NonprofitFactory(legal_name="Code Lagos")
    response = staff_client.post(
        reverse("donations:nonprofit-verify", args=[nonprofit.pk]),
        headers=htmx(f"nonprofit-{nonprofit.pk}"),
    )
    row, live = row_and_live_region(response.content.decode(), f"nonprofit-{nonprofit.pk}")
    assert "Code Lagos is verified." in done_in(row)
    assert "Code Lagos is verified." in live


def test_approving_a_payout_change_confirms_in_its_row(staff_client):
    nonprofit = NonprofitFactory(legal_name="Frames of Hope")
    contact = NonprofitContactFactory(nonprofit=nonprofit, user=UserFactory())
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0001", actor=contact.user
    )
    response = staff_client.post(
        reverse("donations:payout-change-approve", args=[change.pk]),
        headers=htmx(f"payout-change-{change.pk}"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    row = re.search(r"<tr .*?</tr>", html, re.S)[0]
    assert "new payout details of Frames of Hope are approved" in done_in(row)
