"""Nonprofit contacts sign in with an emailed link: single use, expiring, revocable by staff,
never telling who is a contact; staff add contacts and manage their links."""

import datetime
import re
import threading

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from changemakers.core.models import AuditEvent
from donations.models import NonprofitContact, NonprofitSignInLink
from donations.services import (
    LINK_REQUESTS_PER_WINDOW,
    link_path,
    link_token_for,
    nonprofit_contact_create,
    nonprofit_link_request,
    nonprofit_link_send,
    nonprofit_link_use,
    nonprofit_links_revoke,
)
from tests.factories import NonprofitContactFactory, NonprofitFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGN_IN_URL = "/nonprofit/sign-in/"


@pytest.fixture(autouse=True)
def _empty_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def contact(db):
    return NonprofitContactFactory(
        user=UserFactory(username="amani@readers.example"),
        nonprofit=NonprofitFactory(legal_name="Readers of Nairobi"),
        name="Amani Njeri",
    )


def _link_url_from(message) -> str:
    return re.search(r"https?://\S+(/nonprofit/sign-in/\d+/\w+/)", message.body).group(1)


def _request_link(client, email: str):
    return client.post(SIGN_IN_URL, {"email": email})


def test_urls():
    assert reverse("nonprofit:sign-in") == SIGN_IN_URL
    assert reverse("nonprofit:grant-list") == "/nonprofit/"


def test_a_contact_gets_a_link_that_signs_them_in_once(
    client, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _request_link(client, "AMANI@readers.example")

    assert response.status_code == 302
    assert response.url == "/nonprofit/sign-in/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["amani@readers.example"]
    assert "Readers of Nairobi" in message.subject
    url = _link_url_from(message)

    opened = client.get(url)  # a mail scanner fetching the link spends nothing
    assert opened.status_code == 200
    assert "Sign in for Readers of Nairobi" in opened.content.decode()
    assert NonprofitSignInLink.objects.get().used_at is None

    signed_in = client.post(url)
    assert signed_in.status_code == 302
    assert signed_in.url == "/nonprofit/"
    assert client.get("/nonprofit/").status_code == 200
    link = NonprofitSignInLink.objects.get()
    assert link.used_at is not None
    assert AuditEvent.objects.for_object(contact).filter(action="link_sent").exists()

    client.logout()
    again = client.post(url)  # reused
    assert "This link no longer works" in again.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/nonprofit/").status_code == 302


def test_the_answer_is_the_same_for_an_unknown_address(
    client, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = _request_link(client, contact.user.email)
        unknown = _request_link(client, "nobody@elsewhere.example")
        creator_or_staff = _request_link(client, UserFactory(is_staff=True).email)

    assert known.status_code == unknown.status_code == creator_or_staff.status_code == 302
    assert known.url == unknown.url == creator_or_staff.url
    assert [m.to for m in mail.outbox] == [[contact.user.email]]
    page = client.get(known.url).content.decode()
    assert "If that address belongs to a nonprofit contact, a sign-in link is on its way." in page


def test_asking_for_a_link_costs_the_same_whether_or_not_the_address_is_a_contact(
    client, contact, django_assert_num_queries
):
    # Same answer is not enough: a contact's request used to write a link, an audit event and
    # queue an email before answering, an unknown address one SELECT; the difference in time
    # told who is a contact. The lookup and the sending now happen in a job.
    with django_assert_num_queries(0):
        known = _request_link(client, contact.user.email)
    with django_assert_num_queries(0):
        unknown = _request_link(client, "nobody@elsewhere.example")

    assert known.status_code == unknown.status_code == 302


def test_an_expired_link_signs_nobody_in(client, contact, settings):
    settings.NONPROFIT_LINK_MAX_AGE = 3600
    link = nonprofit_link_send(contact=contact, actor=None)
    url = link_path(link)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, seconds=1)):
        response = client.post(url)
        assert "This link no longer works" in response.content.decode()
        assert client.get(url).content.decode().count("This link no longer works") >= 1
    assert "_auth_user_id" not in client.session
    assert NonprofitSignInLink.objects.get().used_at is None


def test_revoking_access_ends_the_contacts_sessions_and_password(client, contact, staff_user):
    contact.user.set_password("a-password-they-set")
    contact.user.save()
    client.force_login(contact.user)
    assert client.get("/nonprofit/").status_code == 200

    nonprofit_links_revoke(contact=contact, actor=staff_user)

    response = client.get("/nonprofit/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    contact.user.refresh_from_db()
    assert not contact.user.has_usable_password()
    # A new link, sent to their own address, lets them in again.
    fresh = nonprofit_link_send(contact=contact, actor=staff_user)
    assert client.post(link_path(fresh)).status_code == 302
    assert client.get("/nonprofit/").status_code == 200


def test_a_link_sent_before_the_contact_moved_to_another_nonprofit_signs_nobody_in(
    client, contact, staff_user
):
    link = nonprofit_link_send(contact=contact, actor=staff_user)
    url = link_path(link)
    contact.nonprofit = NonprofitFactory(legal_name="Another Org")
    contact.save()  # as the admin does when staff move a contact

    response = client.post(url)

    assert "This link no longer works" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_revoked_link_signs_nobody_in(client, contact, staff_user):
    link = nonprofit_link_send(contact=contact, actor=staff_user)
    assert nonprofit_links_revoke(contact=contact, actor=staff_user) == 1

    response = client.post(link_path(link))

    assert "This link no longer works" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.for_object(contact).filter(action="link_revoked").exists()


def test_a_newer_link_replaces_the_older_one(client, contact):
    first = nonprofit_link_send(contact=contact, actor=None)
    nonprofit_link_send(contact=contact, actor=None)

    assert "This link no longer works" in client.post(link_path(first)).content.decode()
    assert "_auth_user_id" not in client.session


def test_a_tampered_token_and_another_links_id_sign_nobody_in(client, contact):
    other = NonprofitContactFactory()
    own = nonprofit_link_send(contact=contact, actor=None)
    theirs = nonprofit_link_send(contact=other, actor=None)
    own_token = link_path(own).rstrip("/").rsplit("/", 1)[1]
    flipped = ("1" if own_token[-1] != "1" else "2").join([own_token[:-1], ""])

    for url in (
        f"/nonprofit/sign-in/{own.pk}/{flipped}/",
        f"/nonprofit/sign-in/{theirs.pk}/{own_token}/",  # own token on another's link id
        f"/nonprofit/sign-in/{own.pk + 1000}/{own_token}/",
    ):
        response = client.post(url)
        assert response.status_code == 410
        assert "This link no longer works" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert NonprofitSignInLink.objects.filter(used_at__isnull=False).count() == 0


def test_a_switched_off_account_cannot_use_its_link(client, contact):
    link = nonprofit_link_send(contact=contact, actor=None)
    contact.user.is_active = False
    contact.user.save()

    assert "This link no longer works" in client.post(link_path(link)).content.decode()
    assert "_auth_user_id" not in client.session


def test_asking_too_often_is_refused_without_sending(
    client, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert _request_link(client, contact.user.email).status_code == 302
        response = _request_link(client, contact.user.email)

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert NonprofitSignInLink.objects.count() == 3  # the refused one made no link


def test_an_inbox_gets_no_more_links_when_each_request_reaches_another_worker(
    client, contact, django_capture_on_commit_callbacks
):
    # Django's default cache lives in each process: with several gunicorn workers (or after
    # a restart) a counter there starts again from zero. The limit per address must hold
    # anyway, so nobody can flood a contact's inbox.
    for _ in range(6):
        cache.clear()  # the next request is served by a worker that never saw the others
        with django_capture_on_commit_callbacks(execute=True):
            assert _request_link(client, contact.user.email).status_code == 302

    assert len(mail.outbox) == 3
    assert NonprofitSignInLink.objects.count() == 3
    # The latest link sent still works: a refused request revoked nothing.
    assert NonprofitSignInLink.objects.usable(timezone.now()).count() == 1


def test_the_limit_per_address_leaves_links_sent_by_staff_alone(
    client, contact, staff_user, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            _request_link(client, contact.user.email)
    with django_capture_on_commit_callbacks(execute=True):
        nonprofit_link_send(contact=contact, actor=staff_user)

    assert len(mail.outbox) == 4


def test_one_client_asking_for_many_addresses_is_refused(client):
    for number in range(10):
        assert _request_link(client, f"someone{number}@example.org").status_code == 302
    assert _request_link(client, "one.more@example.org").status_code == 429


def test_a_very_long_address_is_answered_like_any_other(client):
    # Rate-limit keys hold a digest of the address, never the address itself: a long one
    # would make a cache key memcached refuses (and Django warns about).
    response = _request_link(client, "a" * 240 + "@example.org")

    assert response.status_code == 302


def test_behind_a_proxy_each_client_has_its_own_limit(client, settings):
    # Production runs behind a TLS proxy (DJANGO_PROXY_COUNT): every request then comes from
    # the proxy's address, and one client must not use up everybody's sign-in requests.
    settings.AXES_IPWARE_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(10):
        response = client.post(
            SIGN_IN_URL,
            {"email": f"someone{number}@example.org"},
            # A client may send its own X-Forwarded-For: the proxy appends the real address.
            headers={"X-Forwarded-For": f"198.51.100.{number}, 203.0.113.1"},
            **proxy,
        )
        assert response.status_code == 302
    again = client.post(
        SIGN_IN_URL,
        {"email": "one.more@example.org"},
        headers={"X-Forwarded-For": "198.51.100.77, 203.0.113.1"},
        **proxy,
    )
    another = client.post(
        SIGN_IN_URL,
        {"email": "one.more@example.org"},
        headers={"X-Forwarded-For": "203.0.113.2"},
        **proxy,
    )

    assert again.status_code == 429  # a forged first address does not escape the limit
    assert another.status_code == 302


@pytest.mark.parametrize(
    ("language", "month"), [("en", "Nov. 20, 2026"), ("fr", "20 novembre 2026")]
)
def test_the_email_is_in_the_contacts_language(
    contact, settings, language, month, django_capture_on_commit_callbacks
):
    settings.NONPROFIT_LINK_MAX_AGE = 3600
    contact.language = language
    contact.save()

    with (
        time_machine.travel(datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        nonprofit_link_send(contact=contact, actor=None)

    assert len(mail.outbox) == 1
    assert month in mail.outbox[0].body  # the expiry date, in the contact's language


def test_staff_add_a_contact_without_a_usable_password(staff_user):
    nonprofit = NonprofitFactory()

    contact = nonprofit_contact_create(
        nonprofit=nonprofit,
        email=" Grants@Frames.example ",
        name="Lydia",
        job_title="Director",
        actor=staff_user,
    )

    assert contact.user.username == contact.user.email == "grants@frames.example"
    assert not contact.user.has_usable_password()
    assert AuditEvent.objects.for_object(contact).get().action == "created"


def test_staff_cannot_add_an_address_that_already_signs_in(staff_user, creator_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        nonprofit_contact_create(
            nonprofit=NonprofitFactory(), email=creator_user.email, actor=staff_user
        )
    assert not NonprofitContact.objects.exists()


def test_staff_contacts_page_adds_sends_and_revokes(
    client, staff_user, django_capture_on_commit_callbacks
):
    nonprofit = NonprofitFactory(legal_name="Frames of Hope")
    client.force_login(staff_user)
    url = f"/staff/nonprofits/{nonprofit.pk}/contacts/"

    response = client.post(
        url, {"email": "lydia@frames.example", "name": "Lydia", "job_title": "", "language": "en"}
    )
    assert response.status_code == 302
    contact = NonprofitContact.objects.get(nonprofit=nonprofit)

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"{url}{contact.pk}/send-link/", headers={"HX-Request": "true"})
    assert sent.status_code == 200
    assert "A sign-in link is on its way to lydia@frames.example." in sent.content.decode()
    assert mail.outbox[-1].to == ["lydia@frames.example"]
    assert NonprofitSignInLink.objects.usable(timezone.now()).count() == 1

    revoked = client.post(f"{url}{contact.pk}/revoke-links/")
    assert revoked.status_code == 302
    assert NonprofitSignInLink.objects.usable(timezone.now()).count() == 0


def test_another_nonprofits_contact_id_in_a_staff_url_is_404(client, staff_user, contact):
    client.force_login(staff_user)
    other = NonprofitFactory()

    response = client.post(f"/staff/nonprofits/{other.pk}/contacts/{contact.pk}/send-link/")

    assert response.status_code == 404
    assert not NonprofitSignInLink.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "creator", "nonprofit"])
def test_only_staff_manage_contacts(client, who, creator_user, contact):
    if who == "creator":
        client.force_login(creator_user)
    elif who == "nonprofit":
        client.force_login(contact.user)
    base = f"/staff/nonprofits/{contact.nonprofit_id}/contacts/"

    for response in (
        client.get(base),
        client.post(base, {"email": "x@example.org", "name": "X", "language": "en"}),
        client.post(f"{base}{contact.pk}/send-link/"),
        client.post(f"{base}{contact.pk}/revoke-links/"),
    ):
        assert response.status_code == (302 if who == "anonymous" else 403)
    assert NonprofitContact.objects.count() == 1
    assert not NonprofitSignInLink.objects.exists()


def test_a_contact_with_a_password_lands_on_their_grants(client, contact):
    contact.user.set_password("a long and unusual passphrase")
    contact.user.save()

    response = client.post(
        "/accounts/login/",
        {"username": contact.user.username, "password": "a long and unusual passphrase"},
    )

    assert response.status_code == 302
    assert response.url == "/nonprofit/"


def test_a_contact_signed_in_by_link_sets_a_password(client, contact):
    contact.user.set_unusable_password()  # as staff add them: links only, no password to give
    contact.user.save()
    client.force_login(contact.user)

    response = client.post(
        "/nonprofit/password/",
        {
            "new_password1": "a long and unusual passphrase",
            "new_password2": "a long and unusual passphrase",
        },
    )

    assert response.status_code == 302
    contact.user.refresh_from_db()
    assert contact.user.check_password("a long and unusual passphrase")
    assert client.get("/nonprofit/").status_code == 200  # still signed in


def _at_once(count: int, act) -> list[str]:
    """Run `act()` in `count` threads released together; each outcome is "ok" or "refused"."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run():
        try:
            barrier.wait()
            outcomes.append("ok" if act() is not None else "refused")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_using_one_link_at_the_same_moment_sign_in_once():
    contact = NonprofitContactFactory()
    link = nonprofit_link_send(contact=contact, actor=None)
    token = link_token_for(link)

    outcomes = _at_once(8, lambda: nonprofit_link_use(link=link, token=token))

    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert AuditEvent.objects.for_object(link).filter(action="accepted").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_for_one_address_at_the_same_moment_stay_within_the_limit():
    contact = NonprofitContactFactory()

    outcomes = _at_once(10, lambda: nonprofit_link_request(email=contact.user.email))

    assert outcomes.count("ok") == LINK_REQUESTS_PER_WINDOW
    assert contact.sign_in_links.count() == LINK_REQUESTS_PER_WINDOW
    assert contact.sign_in_links.usable(timezone.now()).count() == 1


def test_staff_cannot_send_a_link_to_a_switched_off_account(
    client, contact, staff_user, django_capture_on_commit_callbacks
):
    # The link could never sign in (a switched-off account cannot): staff are told so
    # instead of "on its way", and the person gets no email with a dead link.
    contact.user.is_active = False
    contact.user.save()
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/nonprofits/{contact.nonprofit_id}/contacts/{contact.pk}/send-link/",
            follow=True,
        )

    assert "switched off" in response.content.decode()
    assert not NonprofitSignInLink.objects.exists()
    assert mail.outbox == []


def test_two_staff_adding_the_same_address_at_once_get_a_readable_refusal(monkeypatch, staff_user):
    from django.db.models.query import QuerySet

    nonprofit = NonprofitFactory()
    UserFactory(username="new@org.example", email="new@org.example")
    # The second request's check ran before the first one's account existed.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)

    with pytest.raises(ValidationError) as refused:
        nonprofit_contact_create(nonprofit=nonprofit, email="new@org.example", actor=staff_user)

    assert refused.value.message_dict == {
        "email": ["new@org.example already has an account; use another address."]
    }


def test_a_contact_with_a_password_must_give_it_to_change_it(client, contact):
    contact.user.set_password("the passphrase they chose")
    contact.user.save()
    client.force_login(contact.user)
    new = {
        "new_password1": "a long and unusual passphrase",
        "new_password2": "a long and unusual passphrase",
    }

    without = client.post("/nonprofit/password/", new)
    wrong = client.post("/nonprofit/password/", {**new, "old_password": "a guess"})

    assert without.status_code == 422
    assert "old_password" in without.context["form"].errors
    assert wrong.status_code == 422
    assert "old_password" in wrong.context["form"].errors
    contact.user.refresh_from_db()
    assert contact.user.check_password("the passphrase they chose")


def test_a_contact_with_a_password_changes_it_with_the_current_one(client, contact):
    contact.user.set_password("the passphrase they chose")
    contact.user.save()
    client.force_login(contact.user)

    response = client.post(
        "/nonprofit/password/",
        {
            "old_password": "the passphrase they chose",
            "new_password1": "a long and unusual passphrase",
            "new_password2": "a long and unusual passphrase",
        },
    )

    assert response.status_code == 302
    contact.user.refresh_from_db()
    assert contact.user.check_password("a long and unusual passphrase")
    assert client.get("/nonprofit/").status_code == 200  # still signed in


def test_guessing_the_current_password_is_stopped_after_five_wrong_tries(client, contact):
    contact.user.set_password("the passphrase they chose")
    contact.user.save()
    client.force_login(contact.user)
    new = {
        "new_password1": "a long and unusual passphrase",
        "new_password2": "a long and unusual passphrase",
    }
    for attempt in range(5):
        guess = client.post("/nonprofit/password/", {**new, "old_password": f"guess {attempt}"})
        assert guess.status_code == 422

    # Even the right one is not checked now: a sixth guess learns nothing.
    stopped = client.post(
        "/nonprofit/password/", {**new, "old_password": "the passphrase they chose"}
    )

    assert stopped.status_code == 429
    assert stopped["Retry-After"] == "900"
    assert "wrong several times in a row" in stopped.content.decode()
    contact.user.refresh_from_db()
    assert contact.user.check_password("the passphrase they chose")


def test_other_mistakes_on_the_password_form_do_not_count_as_guesses(client, contact):
    contact.user.set_password("the passphrase they chose")
    contact.user.save()
    client.force_login(contact.user)
    mismatched = {
        "old_password": "the passphrase they chose",
        "new_password1": "a long and unusual passphrase",
        "new_password2": "another passphrase",
    }
    for _attempt in range(6):
        assert client.post("/nonprofit/password/", mismatched).status_code == 422

    response = client.post(
        "/nonprofit/password/", {**mismatched, "new_password2": mismatched["new_password1"]}
    )

    assert response.status_code == 302
