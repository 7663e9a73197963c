"""Staff roles on the pages and in the admin: each member of staff is shown the buttons and
forms their roles allow and no others, can do through the admin only what the services let
them, and knows which roles they hold. (Who gets which staff URL at all: the matrix.)"""

import re

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from changemakers.core.roles import StaffRole
from donations.models import Grant, Nonprofit
from tests.factories import (
    GrantFactory,
    MilestoneFactory,
    NonprofitFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

PM, FINANCE = StaffRole.PROGRAM_MANAGER, StaffRole.FINANCE_APPROVER
VETTER, AUDITOR = StaffRole.NONPROFIT_VETTER, StaffRole.AUDITOR


def _client(client, *roles):
    client.force_login(StaffFactory(roles=list(roles)))
    return client


def _post_forms(html: str) -> set[str]:
    """Where the page's POST forms (and htmx posts) go, less signing out and the language."""
    actions = set()
    for form in re.findall(r'<form[^>]*method="post"[^>]*>', html):
        action = re.search(r'action="([^"]*)"', form)
        actions.add(action.group(1) if action else "(this page)")
    actions |= set(re.findall(r'data-hx-post="([^"]+)"', html))
    return {a for a in actions if not a.startswith(("/accounts/logout", "/i18n/"))}


@pytest.fixture
def pipeline():
    verified = NonprofitFactory(verification_status=Nonprofit.Verification.VERIFIED)
    return {
        status: GrantFactory(nonprofit=verified, status=status)
        for status in (Grant.Status.PROPOSED, Grant.Status.APPROVED, Grant.Status.FAILED)
    }


def test_the_pipeline_shows_each_role_only_its_own_buttons(client, pipeline):
    proposed, approved, failed = pipeline.values()
    url = reverse("donations:grant-list")

    finance = _client(client, FINANCE).get(url).content.decode()
    assert reverse("donations:grant-approve", args=[proposed.pk]) in finance
    # Paying goes through its review (one grant, or the ticked ones).
    assert f"{reverse('donations:grants-review')}?grants={approved.pk}&" in finance
    assert reverse("donations:grant-retry", args=[failed.pk]) in finance
    assert f'action="{reverse("donations:grants-review")}"' in finance
    assert reverse("donations:grant-create") not in finance

    manager = _client(client, PM).get(url).content.decode()
    assert reverse("donations:grant-create") in manager  # proposing is theirs
    assert _post_forms(manager) == set()

    auditor = _client(client, AUDITOR).get(url).content.decode()
    assert _post_forms(auditor) == set()
    assert reverse("donations:grant-create") not in auditor
    assert reverse("donations:grant-detail", args=[proposed.pk]) in auditor  # reads it all


def test_the_auditor_reads_every_staff_page_with_no_form_to_act(client, pipeline):
    milestone = MilestoneFactory(status="submitted")
    client = _client(client, AUDITOR)
    pages = [
        reverse("donations:grant-detail", args=[pipeline["proposed"].pk]),
        reverse("donations:nonprofit-list"),
        reverse("donations:nonprofit-contacts", args=[pipeline["proposed"].nonprofit_id]),
        reverse("donations:payout-change-list"),
        reverse("donations:fund-list"),
        reverse("programs:cohort-detail", args=[milestone.enrolment.cohort_id]),
        reverse("programs:milestone-review", args=[milestone.pk]),
        reverse("backoffice:dashboard"),
        reverse("backoffice:export-list"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert _post_forms(response.content.decode()) == set(), page


def test_the_vetter_verifies_in_place_and_finance_does_not_see_the_button(client):
    pending = NonprofitFactory()
    verify = reverse("donations:nonprofit-verify", args=[pending.pk])
    url = reverse("donations:nonprofit-list")
    assert verify in _client(client, VETTER).get(url).content.decode()
    assert verify not in _client(client, FINANCE).get(url).content.decode()


def test_a_refused_post_changes_nothing_even_with_the_form_in_hand(client, pipeline):
    """The program manager posts the approval a finance approver would: 403, still proposed."""
    proposed = pipeline["proposed"]
    response = _client(client, PM).post(reverse("donations:grant-approve", args=[proposed.pk]))
    assert response.status_code == 403
    assert Grant.objects.get(pk=proposed.pk).status == Grant.Status.PROPOSED


def test_the_dashboard_says_which_roles_you_hold(client):
    page = _client(client, FINANCE, AUDITOR).get(reverse("backoffice:dashboard"))
    roles = re.search(r'<p id="my-roles".*?</p>', page.content.decode(), re.S).group()
    assert "Finance approver" in roles
    assert "Auditor" in roles
    assert "Program manager" not in roles
    nothing = _client(client).get(reverse("backoffice:dashboard")).content.decode()
    assert "You hold no staff role yet" in nothing


def test_the_navigation_links_only_the_pages_your_roles_open(client):
    vetter = _client(client, VETTER).get(reverse("backoffice:dashboard")).content.decode()
    assert reverse("donations:nonprofit-list") in vetter
    assert reverse("donations:grant-list") not in vetter.split('aria-label="Staff"')[1][:3000]
    assert reverse("programs:cohort-list") not in vetter


# --- The admin -------------------------------------------------------------------------------


def _admin_actions(html: str) -> set[str]:
    return set(re.findall(r'<option value="(\w+)"', html.split('name="action"', 1)[-1][:2000]))


def test_the_admin_offers_each_grant_action_to_its_role_only(client, pipeline):
    url = reverse("admin:donations_grant_changelist")
    finance = _client(client, FINANCE).get(url).content.decode()
    assert {"approve", "schedule", "retry", "cancel"} <= _admin_actions(finance)
    manager = _client(client, PM).get(url).content.decode()
    assert not {"approve", "schedule", "retry", "cancel"} & _admin_actions(manager)


def test_the_program_manager_cannot_approve_through_the_admin(client, pipeline):
    proposed = pipeline["proposed"]
    _client(client, PM).post(
        reverse("admin:donations_grant_changelist"),
        {"action": "approve", "index": "0", helpers.ACTION_CHECKBOX_NAME: [str(proposed.pk)]},
    )
    assert Grant.objects.get(pk=proposed.pk).status == Grant.Status.PROPOSED


def test_the_auditor_sees_the_admin_read_only(client, pipeline):
    client = _client(client, AUDITOR)
    grant = pipeline["approved"]
    change = client.get(reverse("admin:donations_grant_change", args=[grant.pk]))
    assert change.status_code == 200
    html = change.content.decode()
    assert 'name="_save"' not in html
    assert not _admin_actions(html) - {""}
    for name in ("donations_nonprofit", "programs_cohort", "creators_creator", "core_auditevent"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403


def test_a_vetter_cannot_redirect_a_nonprofits_money_in_the_admin(client):
    nonprofit = NonprofitFactory(payout_reference="acct-original")
    url = reverse("admin:donations_nonprofit_change", args=[nonprofit.pk])
    page = _client(client, VETTER).get(url).content.decode()
    assert 'name="payout_reference"' not in page  # shown, not editable
    assert "acct-original" in page
    finance_page = _client(client, FINANCE).get(url)
    assert finance_page.status_code == 200  # finance reads it; edits payout details by review
