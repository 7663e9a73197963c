"""Integrations and their tokens: hashed, shown once, scoped, revocable; a nonprofit's token
reads its own grants and nothing else; nobody makes an integration stronger than themselves."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from changemakers.api import services
from changemakers.api.models import ApiToken, Integration
from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole, staff_roles_of
from tests.api.conftest import client_for, staff_integration
from tests.factories import GrantFactory, NonprofitFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_as_its_prefix_and_a_hash_of_its_secret(superuser):
    integration = staff_integration(superuser, StaffRole.AUDITOR)
    issued = services.token_issue(integration=integration, scope="read", actor=superuser)
    prefix, secret = issued.plaintext.removeprefix("cm_").split("_", 1)
    row = ApiToken.objects.get()
    assert row.prefix == prefix
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert len(secret) == 43  # 32 random bytes
    stored = " ".join(str(value) for value in ApiToken.objects.values_list().get())
    assert secret not in stored
    event = AuditEvent.objects.get(action="token_issued")
    assert secret not in event.note
    assert event.actor == superuser


def test_the_integration_acts_through_its_own_staff_account(superuser):
    integration = staff_integration(superuser, StaffRole.FINANCE_APPROVER)
    account = integration.account
    assert account.is_staff
    assert not account.is_superuser
    assert not account.has_usable_password()
    assert staff_roles_of(account) == [StaffRole.FINANCE_APPROVER]


def test_nobody_gives_an_integration_a_role_they_do_not_hold(manager):
    with pytest.raises(ValidationError) as refused:
        staff_integration(manager, StaffRole.FINANCE_APPROVER)
    assert refused.value.error_dict["roles"][0].code == "role_not_held"
    assert staff_integration(manager, StaffRole.PROGRAM_MANAGER).account is not None


def test_only_staff_who_manage_integrations_create_them_or_issue_tokens(superuser):
    auditor = StaffFactory(roles=[StaffRole.AUDITOR])
    with pytest.raises(ValidationError):
        staff_integration(auditor, StaffRole.AUDITOR)
    integration = staff_integration(superuser, StaffRole.AUDITOR)
    with pytest.raises(ValidationError):
        services.token_issue(integration=integration, scope="read", actor=auditor)
    assert not ApiToken.objects.exists()


def test_a_request_without_a_token_or_with_a_wrong_one_is_a_401(reader):
    response = APIClient().get("/api/v1/grants/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    forged = reader.plaintext[:-1] + ("A" if reader.plaintext[-1] != "A" else "B")
    for header in (f"Bearer {forged}", "Bearer cm_nope", "Bearer", "Token x y", "Bearer a b"):
        response = APIClient().get("/api/v1/grants/", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header


def test_a_session_does_not_open_the_api(client, superuser):
    client.force_login(superuser)
    assert client.get("/api/v1/grants/").status_code == 401


def test_a_revoked_token_stops_working_at_once(reader, superuser):
    assert reader.get("/api/v1/funds/").status_code == 200
    services.token_revoke(token=reader.token, actor=superuser)
    services.token_revoke(token=reader.token, actor=superuser)  # idempotent
    assert reader.get("/api/v1/funds/").status_code == 401
    assert AuditEvent.objects.filter(action="token_revoked").count() == 1


def test_a_token_of_a_switched_off_account_stops_working(reader):
    account = reader.token.integration.account
    account.is_active = False
    account.save()
    assert reader.get("/api/v1/funds/").status_code == 401


def test_a_read_token_cannot_write(reader):
    grant = GrantFactory()
    response = reader.post(f"/api/v1/grants/{grant.pk}/approve/")
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_last_used_is_recorded(reader):
    assert reader.token.last_used_at is None
    reader.get("/api/v1/funds/")
    reader.token.refresh_from_db()
    assert reader.token.last_used_at is not None


def test_an_integration_reads_only_what_its_roles_may(superuser):
    vetter = client_for(staff_integration(superuser, StaffRole.NONPROFIT_VETTER), superuser)
    assert vetter.get("/api/v1/nonprofits/").status_code == 200
    for path in ("/api/v1/grants/", "/api/v1/funds/", "/api/v1/cohorts/", "/api/v1/creators/"):
        response = vetter.get(path)
        assert response.status_code == 403, path


@pytest.fixture
def nonprofit_token(superuser):
    own = NonprofitFactory(legal_name="Readers of Nairobi")
    integration = services.integration_create(
        name="Readers' books", kind=Integration.Kind.NONPROFIT, nonprofit=own, actor=superuser
    )
    return own, client_for(integration, superuser)


def test_a_nonprofit_token_reads_its_own_grants_only(nonprofit_token):
    own, client = nonprofit_token
    mine = GrantFactory(nonprofit=own)
    theirs = GrantFactory()
    listed = client.get("/api/v1/grants/").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert client.get(f"/api/v1/grants/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/grants/{theirs.pk}/").status_code == 404
    # Filters never widen it.
    assert client.get(f"/api/v1/grants/?q={theirs.nonprofit.legal_name}").json()["results"] == []


def test_a_nonprofit_token_reads_nothing_else_and_never_writes(nonprofit_token, superuser):
    own, client = nonprofit_token
    for path in ("/api/v1/nonprofits/", "/api/v1/funds/", "/api/v1/creators/", "/api/v1/lists/"):
        assert client.get(path).status_code == 403, path
    grant = GrantFactory(nonprofit=own)
    assert client.post(f"/api/v1/grants/{grant.pk}/approve/").status_code == 403
    with pytest.raises(ValidationError):
        services.token_issue(integration=client.token.integration, scope="write", actor=superuser)


def test_a_nonprofit_integration_needs_its_nonprofit(superuser):
    with pytest.raises(ValidationError):
        services.integration_create(name="x", kind=Integration.Kind.NONPROFIT, actor=superuser)
    with pytest.raises(ValidationError):
        services.integration_create(name="y", kind=Integration.Kind.STAFF, actor=superuser)
