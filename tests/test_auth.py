import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<label for="id_username"' in content
    assert '<label for="id_password"' in content
    assert reverse("password_reset") in content


def test_sign_in_asks_for_an_email_not_a_username(client, creator_user):
    content = client.get(reverse("login")).content.decode()

    assert re.search(r'<label for="id_username">Email:?</label>', content)
    assert "Username" not in content
    field = re.search(r'<input [^>]*name="username"[^>]*>', content).group(0)
    assert 'type="email"' in field
    assert 'autocomplete="username"' in field
    # Still the account's username (its email) that signs in, and the refusal says "email".
    refused = login(client, creator_user.username, password="wrong")
    assert "correct email and password" in refused.content.decode()
    assert login(client, creator_user.username).status_code == 302


def test_staff_lands_on_the_dashboard(client, staff_user):
    response = login(client, staff_user.username)
    assert response.status_code == 302
    assert response.url == reverse("backoffice:dashboard")


def test_creator_lands_on_their_portal(client, creator_user):
    response = login(client, creator_user.username)
    assert response.status_code == 302
    assert response.url == reverse("programs:portal")


def test_nonprofit_lands_on_their_grants(client, nonprofit_user):
    response = login(client, nonprofit_user.username)
    assert response.status_code == 302
    assert response.url == reverse("nonprofit:grant-list")


def test_member_lands_on_home(client):
    user = UserFactory()
    response = login(client, user.username)
    assert response.url == reverse("creators:home")


def test_safe_next_wins_over_role_default(client, staff_user):
    response = login(client, staff_user.username, next="/list/")
    assert response.url == "/list/"


def test_unsafe_next_is_ignored(client, creator_user):
    response = login(client, creator_user.username, next="https://evil.example/")
    assert response.url == reverse("programs:portal")


def test_wrong_password_shows_error(client, creator_user):
    response = login(client, creator_user.username, password="wrong")
    assert response.status_code == 422
    assert SESSION_KEY not in client.session
    assert 'role="alert"' in response.content.decode()


def test_logout_is_post_only_and_signs_out(client, creator_user):
    client.force_login(creator_user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("creators:home")
    assert SESSION_KEY not in client.session


def test_five_bad_passwords_lock_the_account_out(client):
    user = UserFactory(username="target@example.org")

    # A successful login works, and resets the failure count (AXES_RESET_ON_SUCCESS).
    assert login(client, user.username).status_code == 302
    client.post(reverse("logout"))

    for _attempt in range(4):
        response = login(client, user.username, password="wrong")
        assert response.status_code == 422
    fifth = login(client, user.username, password="wrong")
    assert fifth.status_code == 429
    assert "Too many sign-in attempts" in fifth.content.decode()
    assert "15 minutes" in fifth.content.decode()

    sixth = login(client, user.username)  # the right password, too late
    assert sixth.status_code == 429
    assert "Too many sign-in attempts" in sixth.content.decode()
    assert SESSION_KEY not in client.session


def test_lockout_is_per_username(client):
    victim = UserFactory()
    other = UserFactory()
    for _attempt in range(5):
        login(client, victim.username, password="wrong")
    assert login(client, other.username).status_code == 302


def test_behind_a_proxy_a_lockout_holds_the_attacker_not_everyone(client, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1  # DJANGO_PROXY_COUNT=1: one TLS proxy in front
    user = UserFactory()
    attacker = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    owner = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    url = reverse("login")
    for _attempt in range(5):
        client.post(url, {"username": user.username, "password": "wrong"}, **attacker)

    assert (
        client.post(url, {"username": user.username, "password": PASSWORD}, **attacker).status_code
        == 429
    )
    response = client.post(url, {"username": user.username, "password": PASSWORD}, **owner)
    assert response.status_code == 302


def test_password_reset_flow(client):
    user = UserFactory(username="reset@example.org", email="reset@example.org")

    response = client.post(reverse("password_reset"), {"email": "reset@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert client.get(response.url).status_code == 200

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reset@example.org"]
    assert message.subject == "Reset your Change Makers password"
    assert "Change Makers" in message.body
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body).group(1)

    # Django swaps the token for a session-held one and redirects to the set-password URL.
    response = client.get(link)
    assert response.status_code == 302
    set_password_url = response.url
    response = client.get(set_password_url)
    assert response.status_code == 200
    assert "Choose a new password" in response.content.decode()

    new_password = "a fresh long passphrase 42"
    response = client.post(
        set_password_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    assert response.url == reverse("password_reset_complete")
    assert client.get(response.url).status_code == 200

    user.refresh_from_db()
    assert user.check_password(new_password)
    assert login(client, user.username, password=new_password).status_code == 302


def test_password_reset_for_unknown_email_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_bad_link(client):
    response = client.get(
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"})
    )
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()
