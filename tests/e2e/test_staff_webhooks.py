"""A program manager registers a partner's webhook endpoint in a real browser, shows its
signing secret, sends it a test event and reads the delivery in the log, with its attempt; the
partner's server (on this machine) receives it signed."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from changemakers.core.roles import StaffRole
from changemakers.settings import base
from changemakers.webhooks.models import Endpoint
from tests.e2e.journey import assert_not_reloaded, mark_page, sign_in, wait_for_htmx
from tests.factories import StaffFactory
from tests.webhooks.receiver import receiver_running

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).parent / "artifacts" / "staff-webhooks.png"


@pytest.fixture
def receiver(settings):
    settings.EVENT_TASKS = base.EVENT_TASKS
    with receiver_running(settings) as state:
        yield state


def test_staff_register_an_endpoint_and_see_a_delivery_in_the_log(page: Page, a11y, receiver):
    StaffFactory(username="pm@example.org", roles=[StaffRole.PROGRAM_MANAGER])
    sign_in(page, "pm@example.org", a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)

    page.locator(".site-nav").get_by_role("link", name="Webhooks", exact=True).click()
    expect(page).to_have_url(re.compile(r"/staff/webhooks/$"))
    a11y.check(page)
    page.get_by_role("link", name="Register an endpoint").click()
    a11y.check(page)
    page.get_by_label("Name").fill("Impact Partner")
    page.get_by_label("Address").fill(receiver.url)
    page.get_by_label("Grant paid").check()
    page.get_by_label("Yearly list published").check()
    page.get_by_role("button", name="Register the endpoint").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Impact Partner")
    expect(page.get_by_text("is registered")).to_be_visible()
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["grant.disbursed", "list.published"]

    mark_page(page)
    page.get_by_role("button", name="Show the signing secret").click()
    expect(page.get_by_label("Secret", exact=True)).to_have_value(endpoint.secret)
    page.get_by_role("button", name="Send a test event").click()
    row = page.locator("#deliveries tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Test event")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("200")
    expect(page.locator("#action-status")).to_have_text(re.compile("test event is on its way"))
    assert_not_reloaded(page)
    a11y.check(page)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT.with_name("staff-webhooks-endpoint.png"), full_page=True)

    (request,) = receiver.requests
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["type"] == "webhook.test"

    row.get_by_role("link", name="Test event").click()
    expect(page.get_by_role("heading", level=2, name="Attempts")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("200")
    a11y.check(page)
    page.screenshot(path=SCREENSHOT, full_page=True)
