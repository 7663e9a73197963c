"""Admin for nonprofit access: contacts get or lose sign-in links through actions that call
the services; links and payout changes are read-only there."""

import pytest
from django.utils import timezone

from donations.models import Nonprofit, NonprofitContact, NonprofitSignInLink, PayoutDetailsChange
from donations.services import nonprofit_link_send, payout_change_request
from tests.factories import NonprofitContactFactory, NonprofitFactory
from tests.test_admin import admin_url, audited, messages_of, run_action, staff_client  # noqa: F401

pytestmark = pytest.mark.django_db


def test_admin_actions_send_and_revoke_links(staff_client):  # noqa: F811
    contacts = [NonprofitContactFactory(), NonprofitContactFactory()]
    model = type(contacts[0])

    sent = run_action(staff_client, model, "send_link", contacts)

    assert "A sign-in link is on its way to 2 contacts." in messages_of(sent)
    assert NonprofitSignInLink.objects.usable(timezone.now()).count() == 2
    assert audited(contacts[0], "link_sent") is not None

    revoked = run_action(staff_client, model, "revoke_links", contacts)

    assert "2 open sign-in links revoked." in messages_of(revoked)
    assert NonprofitSignInLink.objects.usable(timezone.now()).count() == 0


def test_links_and_payout_changes_are_read_only_and_never_show_the_nonce(staff_client):  # noqa: F811
    contact = NonprofitContactFactory()
    link = nonprofit_link_send(contact=contact, actor=None)
    change = payout_change_request(
        nonprofit=contact.nonprofit, payout_reference="acct-new", actor=contact.user
    )

    for model, obj in ((NonprofitSignInLink, link), (PayoutDetailsChange, change)):
        assert staff_client.get(admin_url(model, "changelist")).status_code == 200
        page = staff_client.get(admin_url(model, "change", obj.pk))
        assert page.status_code == 200
        assert staff_client.get(admin_url(model, "add")).status_code == 403
    assert (
        link.nonce
        not in staff_client.get(admin_url(NonprofitSignInLink, "change", link.pk)).content.decode()
    )


def test_a_creators_or_staff_account_cannot_become_a_nonprofit_contact_in_the_admin(
    staff_client,  # noqa: F811
    creator_user,
    staff_user,
):
    # The account would sign in by link and then be turned away: its first role (creator,
    # staff) decides what it sees, so the nonprofit pages would answer 403.
    nonprofit = NonprofitFactory()
    for user in (creator_user, staff_user):
        response = staff_client.post(
            admin_url(NonprofitContact, "add"),
            {"user": user.pk, "nonprofit": nonprofit.pk, "language": "en"},
        )

        assert response.status_code == 200  # the form again, with the refusal
        assert "needs an account of its own" in response.content.decode()
    assert not NonprofitContact.objects.exists()


def test_the_admin_cannot_change_a_payout_reference(staff_client, staff_user):  # noqa: F811
    # Where the money goes changes only through a reviewed request: the admin shows the
    # reference read-only, and a posted value is ignored.
    nonprofit = NonprofitFactory(payout_reference="acct-1234")
    data = {
        "legal_name": nonprofit.legal_name,
        "registration_number": nonprofit.registration_number,
        "country": nonprofit.country.code,
        "reach": nonprofit.reach,
        "website": nonprofit.website,
        "contact_email": nonprofit.contact_email,
        "payout_reference": "acct-9999",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }

    page = staff_client.get(admin_url(Nonprofit, "change", nonprofit.pk)).content.decode()
    response = staff_client.post(admin_url(Nonprofit, "change", nonprofit.pk), data)

    assert 'name="payout_reference"' not in page
    assert response.status_code == 302
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-1234"
    assert audited(nonprofit, "updated") is None


def test_the_admin_action_sends_no_link_to_a_switched_off_account(staff_client):  # noqa: F811
    active, off = NonprofitContactFactory(), NonprofitContactFactory()
    off.user.is_active = False
    off.user.save()

    response = run_action(staff_client, NonprofitContact, "send_link", [active, off])

    said = messages_of(response)
    assert any("switched off" in message for message in said)
    assert "A sign-in link is on its way to 1 contact." in said
    assert list(NonprofitSignInLink.objects.values_list("contact", flat=True)) == [active.pk]
