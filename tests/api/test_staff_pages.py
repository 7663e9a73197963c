"""The staff pages for integrations: a token's value is shown on the answer that issued it
and never again; revoking is audited; who may see and who may manage."""

import pytest
from django.urls import reverse

from changemakers.api.models import ApiToken, Integration
from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from tests.api.conftest import staff_integration
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_a_manager_creates_an_integration_with_their_own_role(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("integrations:create"),
        {"name": "Partner CRM", "kind": "staff", "roles": [StaffRole.PROGRAM_MANAGER.value]},
    )
    integration = Integration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:detail", args=[integration.pk])
    refused = client.post(
        reverse("integrations:create"),
        {"name": "Stronger", "kind": "staff", "roles": [StaffRole.FINANCE_APPROVER.value]},
    )
    assert refused.status_code == 422
    assert "only staff roles you hold" in refused.content.decode()
    assert Integration.objects.count() == 1


def test_the_token_is_shown_once(client, manager):
    integration = staff_integration(manager, StaffRole.PROGRAM_MANAGER)
    client.force_login(manager)
    response = client.post(
        reverse("integrations:token-issue", args=[integration.pk]),
        {"scope": "read", "label": "CRM server"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    html = response.content.decode()
    shown = html.split(f"cm_{token.prefix}_", 1)[1].split("<", 1)[0]
    assert len(shown) == 43
    later = client.get(reverse("integrations:detail", args=[integration.pk])).content.decode()
    assert f"cm_{token.prefix}…" in later
    assert shown not in later


def test_revoking_a_token_on_the_page(client, manager):
    integration = staff_integration(manager, StaffRole.PROGRAM_MANAGER)
    client.force_login(manager)
    client.post(reverse("integrations:token-issue", args=[integration.pk]), {"scope": "write"})
    token = ApiToken.objects.get()
    response = client.post(reverse("integrations:token-revoke", args=[integration.pk, token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == manager
    assert AuditEvent.objects.filter(action="token_revoked", actor=manager).exists()


def test_the_auditor_reads_the_integrations_and_changes_nothing(client, manager):
    integration = staff_integration(manager, StaffRole.PROGRAM_MANAGER)
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    detail = client.get(reverse("integrations:detail", args=[integration.pk]))
    assert detail.status_code == 200
    assert reverse("integrations:token-issue", args=[integration.pk]) not in detail.content.decode()
    assert client.get(reverse("integrations:list")).status_code == 200
    issue = client.post(
        reverse("integrations:token-issue", args=[integration.pk]), {"scope": "read"}
    )
    assert issue.status_code == 403
    assert not ApiToken.objects.exists()
