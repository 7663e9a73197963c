"""A partner reads the API's documentation in a real browser: Swagger UI, served from this
site, renders every operation under the site's strict Content-Security-Policy (the browser
log fails the test on any violation), and with a token given to Authorize it pages through
the grants."""

import pytest
from playwright.sync_api import expect

from changemakers.api import services
from changemakers.api.models import Integration
from changemakers.core.roles import StaffRole
from tests.factories import GrantFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_render_and_list_grants_with_a_token(page, a11y):
    root = StaffFactory(is_superuser=True)
    integration = services.integration_create(
        name="Partner", kind=Integration.Kind.STAFF, roles=[StaffRole.AUDITOR], actor=root
    )
    token = services.token_issue(integration=integration, scope="read", actor=root).plaintext
    grant = GrantFactory(purpose="Books for Kibera")

    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.get_by_text("/api/v1/grants/{id}/approve/")).to_be_visible()
    a11y.check(page)

    page.get_by_role("button", name="Authorize").click()
    page.locator(".auth-container input").fill(token)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()

    operation = page.locator("#operations-grants-grants_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text(
        "200"
    )
    expect(operation.locator(".live-responses-table")).to_contain_text(grant.purpose)
