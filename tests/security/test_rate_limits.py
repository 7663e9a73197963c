"""Rate limits not proved elsewhere. The sign-in page's lockout is in tests/test_auth.py, the
application form's in tests/programs/test_staff_views.py, the nonprofit sign-in link's in
tests/donations/test_nonprofit_access.py. Here: the admin's own sign-in page is held by the
same lockout, and the password-reset form cannot flood an inbox."""

import datetime

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET_URL = "/accounts/password-reset/"


def test_the_admin_sign_in_page_locks_out_after_five_wrong_passwords(client):
    staff = UserFactory(username="boss@example.org", is_staff=True, is_superuser=True)
    url = "/admin/login/?next=/admin/"
    for _attempt in range(4):
        response = client.post(url, {"username": staff.username, "password": "wrong"})
        assert response.status_code == 200
    fifth = client.post(url, {"username": staff.username, "password": "wrong"})
    assert fifth.status_code == 429
    assert "Too many sign-in attempts" in fifth.content.decode()

    right = client.post(url, {"username": staff.username, "password": PASSWORD})
    assert right.status_code == 429
    assert SESSION_KEY not in client.session


def test_an_inbox_gets_at_most_three_reset_emails_an_hour(client):
    UserFactory(username="target@example.org", email="target@example.org")
    for number in range(3):
        response = client.post(
            RESET_URL, {"email": "Target@example.org"}, REMOTE_ADDR=f"198.51.100.{number}"
        )
        assert response.status_code == 302
    assert len(mail.outbox) == 3

    # From yet another address: the limit is the inbox's, whoever asks.
    refused = client.post(RESET_URL, {"email": "target@example.org"}, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Several reset links have been asked for in the last hour" in refused.content.decode()
    assert len(mail.outbox) == 3

    with time_machine.travel(datetime.timedelta(hours=1, minutes=1)):
        later = client.post(RESET_URL, {"email": "target@example.org"}, REMOTE_ADDR="203.0.113.9")
    assert later.status_code == 302
    assert len(mail.outbox) == 4


def test_one_client_asking_for_many_addresses_is_refused_whether_or_not_they_exist(client):
    UserFactory(username="someone@example.org", email="someone@example.org")
    for number in range(10):
        response = client.post(RESET_URL, {"email": f"nobody{number}@example.org"})
        assert response.status_code == 302
    refused = client.post(RESET_URL, {"email": "someone@example.org"})
    assert refused.status_code == 429
    assert mail.outbox == []
