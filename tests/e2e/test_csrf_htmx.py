"""CSRF in a real browser: an htmx POST gets through on the token base.html puts in
`data-hx-headers` on <body> alone, and without any token the same POST is refused and changes
nothing (tests/security/test_csrf.py proves the server side for every URL)."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from donations.models import Nonprofit
from tests.e2e.journey import assert_not_reloaded, mark_page, sign_in, wait_for_htmx
from tests.factories import NonprofitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_vetting(page: Page, a11y) -> None:
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/nonprofits/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)


def test_an_htmx_post_gets_through_on_the_token_in_hx_headers_alone(page: Page, a11y):
    nonprofit = NonprofitFactory(legal_name="Code Lagos Initiative", country="NG")
    open_vetting(page, a11y)
    row = page.locator(f"#nonprofit-{nonprofit.pk}")
    # The form's own hidden token goes: only what htmx adds from <body data-hx-headers> is left.
    row.locator("input[name=csrfmiddlewaretoken]").evaluate_all(
        "fields => fields.forEach(f => f.remove())"
    )
    body_token = json.loads(page.locator("body").get_attribute("data-hx-headers"))["X-CSRFToken"]
    mark_page(page)

    with page.expect_request(lambda r: r.method == "POST" and "/verify/" in r.url) as sent:
        row.get_by_role("button", name="Verify").click()
    expect(row.locator(".badge")).to_have_text("Verified")

    request = sent.value
    assert request.headers["hx-request"] == "true"
    assert request.headers["x-csrftoken"] == body_token
    assert "csrfmiddlewaretoken" not in (request.post_data or "")
    assert_not_reloaded(page)
    a11y.check(page)
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.VERIFIED


def test_without_any_token_the_browser_post_is_refused(page: Page, a11y, browser_log):
    nonprofit = NonprofitFactory(legal_name="Code Lagos Initiative", country="NG")
    open_vetting(page, a11y)
    row = page.locator(f"#nonprofit-{nonprofit.pk}")
    row.locator("input[name=csrfmiddlewaretoken]").evaluate_all(
        "fields => fields.forEach(f => f.remove())"
    )
    page.locator("body").evaluate("body => body.removeAttribute('data-hx-headers')")
    path = f"/staff/nonprofits/{nonprofit.pk}/verify/"

    with page.expect_response(lambda r: r.url.endswith(path)) as answered:
        row.get_by_role("button", name="Verify").click()
    assert answered.value.status == 403
    assert "Your form was not sent" in answered.value.text()
    expect(row.locator(".badge")).to_have_text("Pending review")  # htmx swaps no error in
    browser_log.expected(path, 403)
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.PENDING
