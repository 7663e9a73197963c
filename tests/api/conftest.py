"""The API's fixtures: integrations made through the services, and clients that send their
token (never a session)."""

import pytest
from rest_framework.test import APIClient

from changemakers.api import services
from changemakers.api.models import ApiToken, Integration
from changemakers.core.roles import StaffRole
from tests.factories import StaffFactory


@pytest.fixture
def manager(db):
    """A program manager: who connects integrations."""
    return StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, username="root@example.org")


def staff_integration(actor, *roles, name="Partner CRM") -> Integration:
    return services.integration_create(
        name=name, kind=Integration.Kind.STAFF, roles=list(roles), actor=actor
    )


def client_for(integration: Integration, actor, scope=ApiToken.Scope.READ) -> APIClient:
    issued = services.token_issue(integration=integration, scope=scope, actor=actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    client.token = issued.token
    client.plaintext = issued.plaintext
    return client


@pytest.fixture
def reader(superuser):
    """A read token of an integration holding every staff role."""
    return client_for(staff_integration(superuser, *StaffRole, name="Reader"), superuser)


@pytest.fixture
def writer(superuser):
    """A write token of an integration that may propose grants and add list entries (a
    program manager) and approve them (a finance approver)."""
    integration = staff_integration(
        superuser, StaffRole.PROGRAM_MANAGER, StaffRole.FINANCE_APPROVER, name="Writer"
    )
    return client_for(integration, superuser, ApiToken.Scope.WRITE)
