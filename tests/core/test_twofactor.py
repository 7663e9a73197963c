"""Two-factor sign-in: staff cannot reach their pages or the admin without a second factor
when it is required; codes are checked, rate limited and audited; recovery codes work once; a
colleague resets a lost factor (never one's own); creators and nonprofit contacts may turn it
on, and then every sign-in of theirs, the emailed link included, asks for it."""

import re
from binascii import unhexlify

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from changemakers.core.models import AuditEvent
from changemakers.core.twofactor import services
from changemakers.core.twofactor.verbs import AuditVerb
from donations.services import link_path, nonprofit_link_send
from tests.factories import PASSWORD, CreatorFactory, NonprofitContactFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, as hex
LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/verify/"
SETUP = "/accounts/two-factor/setup/"


@pytest.fixture(autouse=True)
def _empty_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def code_for(key: str = KEY, *, offset: int = 0) -> str:
    """The code an authenticator app shows now (`offset` steps of 30 s later)."""
    return f"{totp(unhexlify(key), t0=-30 * offset):06d}"


def with_app(user, key: str = KEY) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", key=key, confirmed=True)


def sign_in(client, user, password=PASSWORD):
    return client.post(LOGIN, {"username": user.username, "password": password})


def events(user, verb) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_object(user).filter(action=verb))


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True, username="staff@example.org")


@pytest.fixture
def colleague(db):
    return UserFactory(is_staff=True, is_superuser=True, username="colleague@example.org")


def verified_client(client, user):
    """`client` signed in as `user` with their app's code."""
    response = sign_in(client, user)
    assert response.url.startswith(VERIFY)
    assert client.post(VERIFY, {"code": code_for()}).status_code == 302
    return client


# --- Staff must have a second factor when it is required -------------------------------------


@pytest.mark.parametrize("path", ["/staff/", "/staff/grants/", "/admin/", "/admin/auth/user/"])
def test_staff_without_a_second_factor_cannot_reach_staff_pages_or_the_admin(
    client, staff, required, path
):
    client.force_login(staff)

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"{SETUP}?next={path.replace('/', '%2F')}"


def test_staff_without_a_device_go_to_set_up_right_after_the_password(client, staff, required):
    response = sign_in(client, staff)

    assert response.status_code == 302
    assert response.url == f"{SETUP}?next=%2Fstaff%2F"
    page = client.get(response.url)
    assert page.status_code == 200
    assert b"Set up two-factor sign-in" in page.content
    assert b"<svg" in page.content  # the QR code, drawn here
    secret = re.search(rb'id="totp-secret">([A-Z2-7 ]+)<', page.content).group(1).decode()
    assert len(secret.replace(" ", "")) == 32


def test_staff_set_up_an_app_see_recovery_codes_once_then_reach_their_pages(
    client, staff, required
):
    sign_in(client, staff)
    client.get(SETUP)
    key = client.session["twofactor_pending_key"]
    assert not TOTPDevice.objects.exists()  # nothing stored before the app is confirmed

    wrong = client.post(SETUP, {"code": "000000", "next": "/staff/"})
    assert wrong.status_code == 422
    assert not TOTPDevice.objects.exists()

    done = client.post(SETUP, {"code": code_for(key), "next": "/staff/"})
    assert done.status_code == 302
    assert done.url == "/accounts/two-factor/recovery-codes/?next=%2Fstaff%2F"
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    assert device.key == key

    codes_page = client.get(done.url)
    codes = re.findall(rb'<li><span class="code">([a-z2-7]{8})</span></li>', codes_page.content)
    assert len(codes) == services.RECOVERY_CODE_COUNT
    assert b"shown only now" in codes_page.content
    again = client.get(done.url)
    assert not re.findall(rb'<li><span class="code">', again.content)  # shown once

    assert client.get("/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert [e.note for e in events(staff, AuditVerb.SECOND_FACTOR_ADDED)] == ["authenticator app"]
    assert len(events(staff, AuditVerb.RECOVERY_CODES_ISSUED)) == 1


def test_staff_with_a_second_factor_are_asked_for_it_and_then_get_in(client, staff, required):
    with_app(staff)

    response = sign_in(client, staff)
    assert response.url == f"{VERIFY}?next=%2Fstaff%2F"
    assert client.get("/staff/").url == f"{VERIFY}?next=%2Fstaff%2F"
    assert client.get("/admin/").url == f"{VERIFY}?next=%2Fadmin%2F"

    verified = client.post(VERIFY, {"code": code_for(), "next": "/staff/"})

    assert verified.status_code == 302
    assert verified.url == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_staff_member_with_a_factor_is_asked_even_when_not_required(client, staff):
    with_app(staff)
    client.force_login(staff)

    assert client.get("/staff/").url == f"{VERIFY}?next=%2Fstaff%2F"


def test_without_the_requirement_staff_sign_in_with_the_password_alone(client, staff, settings):
    settings.STAFF_2FA_REQUIRED = False
    response = sign_in(client, staff)
    assert response.url == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_session_owing_its_factor_can_sign_out_and_switch_language(client, staff, required):
    client.force_login(staff)
    assert client.post("/i18n/setlang/", {"language": "fr", "next": SETUP}).url == SETUP
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_an_htmx_request_owing_its_factor_is_sent_to_it_with_a_client_redirect(
    client, staff, required
):
    with_app(staff)
    client.force_login(staff)

    response = client.get("/staff/grants/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{VERIFY}?next=%2Fstaff%2Fgrants%2F"


# --- Codes: wrong ones refused and limited, recovery codes once --------------------------------


def test_a_wrong_code_is_refused(client, staff, required):
    device = with_app(staff)
    sign_in(client, staff)

    response = client.post(VERIFY, {"code": code_for(offset=10)})

    assert response.status_code == 422
    assert b"That code is not right" in response.content
    assert client.get("/staff/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_code_is_not_accepted_twice(client, staff, required):
    with_app(staff)
    verified_client(client, staff)
    client.post("/accounts/logout/")
    sign_in(client, staff)

    assert client.post(VERIFY, {"code": code_for()}).status_code == 422


def test_wrong_codes_are_rate_limited_per_account(client, staff, required, settings):
    settings.TWO_FACTOR_RATE_LIMIT = 3
    with_app(staff)
    sign_in(client, staff)
    start = timezone.now()
    for minute in range(3):
        # Past django-otp's growing delay after each failure, so only our limit is left.
        with time_machine.travel(start + timezone.timedelta(minutes=minute), tick=False):
            assert client.post(VERIFY, {"code": code_for(offset=10)}).status_code == 422

    with time_machine.travel(start + timezone.timedelta(minutes=5)):
        limited = client.post(VERIFY, {"code": code_for()})

    assert limited.status_code == 429
    assert limited["Retry-After"] == str(settings.TWO_FACTOR_RATE_WINDOW)
    assert b"Too many wrong codes" in limited.content
    assert client.get("/staff/").status_code == 302  # the right code did not get in either


def test_django_otp_refuses_even_the_right_code_just_after_a_wrong_one(client, staff, required):
    with_app(staff)
    sign_in(client, staff)
    with time_machine.travel(timezone.now(), tick=False):
        client.post(VERIFY, {"code": code_for(offset=10)})
        assert client.post(VERIFY, {"code": code_for()}).status_code == 422


def test_a_recovery_code_signs_in_once_and_is_audited(client, staff, required):
    with_app(staff)
    codes = services.recovery_codes_issue(user=staff, actor=staff)
    sign_in(client, staff)

    used = client.post(VERIFY, {"code": codes[0].upper(), "next": "/staff/"})

    assert used.status_code == 302
    assert client.get("/staff/").status_code == 200
    assert services.recovery_codes_left(staff) == len(codes) - 1
    [event] = events(staff, AuditVerb.RECOVERY_CODE_USED)
    assert event.actor == staff
    assert event.note == f"{len(codes) - 1} left"

    client.post("/accounts/logout/")
    sign_in(client, staff)
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=1)):
        assert client.post(VERIFY, {"code": codes[0]}).status_code == 422
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=2)):
        assert client.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, staff):
    with_app(staff)
    old = services.recovery_codes_issue(user=staff, actor=staff)
    verified_client(client, staff)

    response = client.post("/accounts/two-factor/recovery-codes/")

    assert response.status_code == 302
    page = client.get(response.url)
    new = re.findall(rb'<li><span class="code">([a-z2-7]{8})</span></li>', page.content)
    assert len(new) == services.RECOVERY_CODE_COUNT
    tokens = set(StaticToken.objects.values_list("token", flat=True))
    assert tokens == {code.decode() for code in new}
    assert not tokens & set(old)
    assert len(events(staff, AuditVerb.RECOVERY_CODES_ISSUED)) == 2


def test_recovery_codes_are_not_issued_to_an_account_without_a_second_factor(client, staff):
    client.force_login(staff)
    assert client.post("/accounts/two-factor/recovery-codes/").status_code == 404
    assert not StaticDevice.objects.exists()


# --- Adding and removing factors -------------------------------------------------------------


def test_a_session_owing_its_factor_cannot_add_another(client, staff):
    with_app(staff)
    client.force_login(staff)

    response = client.get(SETUP)

    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    begin = client.post("/accounts/two-factor/webauthn/registration/begin/")
    assert begin.status_code == 403


def test_removing_a_factor_is_audited_and_the_last_one_turns_it_off(client, creator_user):
    with_app(creator_user)
    services.recovery_codes_issue(user=creator_user, actor=creator_user)
    verified_client(client, creator_user)
    device = TOTPDevice.objects.get()

    response = client.post(f"/accounts/two-factor/remove/app/{device.pk}/")

    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()
    assert not StaticDevice.objects.exists()  # recovery codes go with the last factor
    [event] = events(creator_user, AuditVerb.SECOND_FACTOR_REMOVED)
    assert (event.actor, event.note) == (creator_user, "authenticator app")
    assert client.get("/portal/").status_code == 200


def test_staff_who_must_have_a_factor_cannot_remove_their_last(client, staff, required):
    with_app(staff)
    verified_client(client, staff)
    device = TOTPDevice.objects.get()

    client.post(f"/accounts/two-factor/remove/app/{device.pk}/")

    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not events(staff, AuditVerb.SECOND_FACTOR_REMOVED)
    with pytest.raises(ValidationError) as refused:
        services.device_remove(user=staff, device=device, actor=staff)
    assert refused.value.code == "last_second_factor"


def test_nobody_removes_another_persons_factor(client, staff, creator_user):
    device = with_app(staff)
    client.force_login(creator_user)

    response = client.post(f"/accounts/two-factor/remove/app/{device.pk}/")

    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_a_passkey_added_is_audited_and_removable(client, creator_user):
    passkey = WebAuthnCredential.objects.create(
        user=creator_user,
        credential_id=b"credential-1",
        public_key=b"public-key",
        sign_count=0,
        confirmed=True,
    )
    services.passkey_added(device=passkey, actor=creator_user)
    assert services.has_second_factor(creator_user)
    [event] = events(creator_user, AuditVerb.SECOND_FACTOR_ADDED)
    assert event.note.startswith("passkey added ")

    services.device_remove(user=creator_user, device=passkey, actor=creator_user)

    assert not services.has_second_factor(creator_user)


# --- A colleague's lost factor ---------------------------------------------------------------


def test_a_colleague_resets_a_lost_factor_and_it_is_audited(client, staff, colleague, required):
    with_app(staff)
    with_app(colleague, key="41" * 20)
    services.recovery_codes_issue(user=colleague, actor=colleague)
    verified_client(client, staff)
    assert b"colleague@example.org" in client.get("/staff/two-factor/").content

    response = client.post(
        f"/staff/two-factor/{colleague.pk}/reset/", {"reason": "Phone lost; checked on a call."}
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert not StaticDevice.objects.filter(user=colleague).exists()
    [event] = events(colleague, AuditVerb.SECOND_FACTOR_RESET)
    assert (event.actor, event.note) == (staff, "Phone lost; checked on a call.")

    # The colleague sets up a new one at their next sign-in.
    other = client.__class__()
    assert sign_in(other, colleague).url == f"{SETUP}?next=%2Fstaff%2F"


def test_a_reset_signs_the_colleague_out_of_the_factor_of_open_sessions(
    client, staff, colleague, required
):
    with_app(staff)
    with_app(colleague, key="41" * 20)
    theirs = client.__class__()
    sign_in(theirs, colleague)
    theirs.post(VERIFY, {"code": code_for("41" * 20)})
    assert theirs.get("/staff/").status_code == 200

    services.second_factor_reset(user=colleague, actor=staff, reason="Phone stolen.")

    assert theirs.get("/staff/").url.startswith(VERIFY)
    assert theirs.get(theirs.get("/staff/").url).url.startswith(SETUP)


def test_nobody_resets_their_own_factor(client, staff):
    with_app(staff)
    verified_client(client, staff)

    response = client.post(f"/staff/two-factor/{staff.pk}/reset/", {"reason": "Mine."}, follow=True)

    assert response.redirect_chain == [("/staff/two-factor/", 302)]
    assert b"You cannot reset your own second factor" in response.content
    assert TOTPDevice.objects.filter(user=staff).exists()
    assert not events(staff, AuditVerb.SECOND_FACTOR_RESET)


def test_a_reset_needs_a_reason_and_a_verified_staff_member(client, staff, colleague):
    with_app(colleague)
    client.force_login(staff)  # no second factor of their own

    unverified = client.post(
        f"/staff/two-factor/{colleague.pk}/reset/", {"reason": "Lost."}, follow=True
    )
    assert b"Sign in with your own second factor before" in unverified.content
    assert TOTPDevice.objects.filter(user=colleague).exists()

    with pytest.raises(ValidationError) as no_reason:
        services.second_factor_reset(user=colleague, actor=staff, reason="  ")
    assert no_reason.value.code == "reason_required"


def test_only_staff_reset_a_factor(client, creator_user, colleague):
    with_app(colleague)
    client.force_login(creator_user)

    response = client.post(f"/staff/two-factor/{colleague.pk}/reset/", {"reason": "Lost."})

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=colleague).exists()
    with pytest.raises(ValidationError) as refused:
        services.second_factor_reset(user=colleague, actor=creator_user, reason="Lost.")
    assert refused.value.code == "not_staff"


def test_the_auditor_resets_no_factor_but_a_staff_role_may(colleague):
    from changemakers.core.roles import StaffRole
    from tests.factories import StaffFactory

    with_app(colleague)
    auditor = StaffFactory(roles=[StaffRole.AUDITOR])
    with pytest.raises(ValidationError) as refused:
        services.second_factor_reset(user=colleague, actor=auditor, reason="Lost.")
    assert refused.value.code == "not_permitted"
    assert TOTPDevice.objects.filter(user=colleague).exists()

    vetter = StaffFactory(roles=[StaffRole.AUDITOR, StaffRole.NONPROFIT_VETTER])
    assert services.second_factor_reset(user=colleague, actor=vetter, reason="Lost.") == 1


# --- Creators and nonprofit contacts: optional ----------------------------------------------


def test_creators_sign_in_without_a_second_factor_even_when_staff_must(
    client, creator_user, required
):
    response = sign_in(client, creator_user)
    assert response.url == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert b"Off." in client.get("/accounts/two-factor/").content


def test_a_creator_turns_it_on_and_is_asked_at_the_next_sign_in(client, creator_user):
    client.force_login(creator_user)
    client.get(SETUP)
    key = client.session["twofactor_pending_key"]
    client.post(SETUP, {"code": code_for(key)})
    client.post("/accounts/logout/")

    response = sign_in(client, creator_user)

    assert response.url == f"{VERIFY}?next=%2Fportal%2F"
    assert client.get("/portal/").status_code == 302
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=60)):
        assert client.post(VERIFY, {"code": code_for(key), "next": "/portal/"}).url == "/portal/"
    assert client.get("/portal/").status_code == 200


def test_a_nonprofit_link_sign_in_asks_for_the_second_factor_once_it_is_on(
    client, django_capture_on_commit_callbacks
):
    contact = NonprofitContactFactory()
    with_app(contact.user)
    with django_capture_on_commit_callbacks(execute=False):
        link = nonprofit_link_send(contact=contact, actor=None)

    response = client.post(link_path(link))

    assert response.status_code == 302
    assert client.get("/nonprofit/").url == f"{VERIFY}?next=%2Fnonprofit%2F"
    assert client.post(VERIFY, {"code": code_for(), "next": "/nonprofit/"}).url == "/nonprofit/"
    assert client.get("/nonprofit/").status_code == 200


def test_a_nonprofit_link_signs_in_directly_without_a_second_factor(
    client, django_capture_on_commit_callbacks
):
    contact = NonprofitContactFactory()
    with django_capture_on_commit_callbacks(execute=False):
        link = nonprofit_link_send(contact=contact, actor=None)
    client.post(link_path(link))
    assert client.get("/nonprofit/").status_code == 200


def test_account_pages_link_to_two_factor_sign_in(client, creator_user, nonprofit_user):
    client.force_login(creator_user)
    assert b"/accounts/two-factor/" in client.get("/portal/profile/").content
    client.force_login(nonprofit_user)
    assert b"/accounts/two-factor/" in client.get("/nonprofit/details/").content


# --- The reads -------------------------------------------------------------------------------


def test_has_second_factor_counts_confirmed_apps_and_passkeys_only():
    user = UserFactory()
    assert not services.has_second_factor(user)
    assert not services.has_second_factor(AnonymousUser())
    TOTPDevice.objects.create(user=user, key=KEY, confirmed=False)
    StaticDevice.objects.create(user=user, confirmed=True)
    assert not services.has_second_factor(user)
    with_app(user)
    assert services.has_second_factor(user)


def test_staff_must_have_it_only_when_required(settings):
    staff_member = UserFactory(is_staff=True)
    creator = CreatorFactory(user=UserFactory()).user
    settings.STAFF_2FA_REQUIRED = True
    assert services.required_for(staff_member)
    assert not services.required_for(creator)
    settings.STAFF_2FA_REQUIRED = False
    assert not services.required_for(staff_member)


def test_setting_up_an_app_is_rate_limited_too(client, staff, settings):
    settings.TWO_FACTOR_RATE_LIMIT = 2
    client.force_login(staff)
    client.get(SETUP)
    key = client.session["twofactor_pending_key"]
    for _attempt in range(2):
        assert client.post(SETUP, {"code": code_for(key, offset=10)}).status_code == 422

    limited = client.post(SETUP, {"code": code_for(key)})

    assert limited.status_code == 429
    assert limited["Retry-After"] == str(settings.TWO_FACTOR_RATE_WINDOW)
    assert not TOTPDevice.objects.exists()


def test_passing_the_second_factor_gives_the_session_a_new_id(client, staff, required):
    with_app(staff)
    sign_in(client, staff)
    before = client.cookies["sessionid"].value

    client.post(VERIFY, {"code": code_for()})

    assert client.cookies["sessionid"].value != before
    assert client.get("/staff/").status_code == 200


def test_a_session_owing_its_second_factor_is_shown_no_staff_navigation(client, staff):
    with_app(staff)
    sign_in(client, staff)

    owing = client.get("/accounts/two-factor/verify/").content.decode()
    assert 'aria-label="Staff"' not in owing
    assert "/admin/" not in owing

    client.post("/accounts/two-factor/verify/", {"code": code_for()})
    verified = client.get("/staff/").content.decode()
    assert 'aria-label="Staff"' in verified
