"""The public pages of the nonprofits the program supports, in a real browser: the contact
writes "what we do", a vetter approves it, the public finds it from the program page; the
list filters in place with htmx and by its Filter button without JavaScript; the pages open
in every language the site speaks.

With SHOTS_DIR set, the pages are also photographed at 1280 and 390 pixels wide."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from changemakers.core.roles import StaffRole
from creators.models import ChangeMakersList
from donations.services import (
    nonprofit_causes_set,
    nonprofit_description_approve,
    nonprofit_description_submit,
    nonprofit_verify,
)
from tests.e2e.journey import assert_not_reloaded, mark_page, paid_grant, shoot, signed_in
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    ListEntryFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def program():
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    proposer = UserFactory(username="proposer@example.org", is_staff=True, is_superuser=True)
    vetter = StaffFactory(username="vetter@example.org", roles=[StaffRole.NONPROFIT_VETTER])
    edition = ChangeMakersListFactory(year=2026, title="Change Makers 2026")
    ChangeMakersList.objects.filter(pk=edition.pk).update(
        status="published", published_at=edition.created_at
    )
    wanjiru = CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads", country="KE")
    ListEntryFactory(change_makers_list=edition, creator=wanjiru, position=1)

    readers = nonprofit_verify(
        nonprofit=NonprofitFactory(
            legal_name="Readers of Nairobi",
            country="KE",
            website="https://readers.example",
            slug="readers-of-nairobi",
        ),
        actor=staff,
    )
    nonprofit_causes_set(nonprofit=readers, causes=["education"], actor=staff)
    paid_grant(readers, staff, proposer, creator=wanjiru)
    contact = NonprofitContactFactory(
        nonprofit=readers, user=UserFactory(username="amani@readers.example")
    )
    water = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Clean Water Britain", country="GB", slug="water"),
        actor=staff,
    )
    nonprofit_causes_set(nonprofit=water, causes=["health", "environment"], actor=staff)
    paid_grant(water, staff, proposer, currency="GBP")
    nonprofit_description_submit(
        nonprofit=water, description="Water points built with villages.", actor=staff
    )
    nonprofit_description_approve(nonprofit=water, actor=vetter)
    return {"readers": readers, "water": water, "contact": contact, "vetter": vetter}


def names(page: Page) -> list[str]:
    return page.locator("#results .entry__name a").all_inner_texts()


def test_contact_writes_staff_approve_and_the_public_reads_it(
    page: Page, new_page, a11y, live_server, program
):
    readers = program["readers"]
    # The contact writes the text in their portal.
    signed_in(page, program["contact"].user, live_server.url)
    page.goto("/nonprofit/")
    a11y.check(page)
    page.get_by_role("link", name="Public page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your public page")
    a11y.check(page)
    page.get_by_label("What your organisation does").fill(
        "Reading clubs and lending libraries in forty Nairobi schools."
    )
    page.get_by_role("button", name="Send for review").click()
    expect(page.locator(".description-review .badge")).to_have_text("Waiting for review")
    a11y.check(page)
    shoot(page, "portal-public-page")

    # Not public yet.
    public = new_page()
    public.goto(readers.get_absolute_url())
    expect(public.get_by_role("heading", level=1)).to_have_text("Readers of Nairobi")
    expect(public.locator(".nonprofit-description")).to_have_count(0)
    a11y.check(public)

    # A vetter approves it on the nonprofit's staff page.
    staff = new_page()
    signed_in(staff, program["vetter"], live_server.url)
    staff.goto("/staff/nonprofits/")
    a11y.check(staff)
    staff.get_by_role("link", name="Description to review").click()
    expect(staff.locator(".pending-description")).to_contain_text("forty Nairobi schools")
    a11y.check(staff)
    shoot(staff, "staff-public-page")
    staff.get_by_role("button", name="Approve and publish").click()
    expect(staff.locator(".public-description")).to_contain_text("forty Nairobi schools")
    a11y.check(staff)

    # The public finds it from the program page, on the next request.
    public.goto("/program/")
    a11y.check(public)
    public.locator(".stat").filter(has_text="Nonprofits supported").get_by_role("link").click()
    expect(public.get_by_role("heading", level=1)).to_have_text("Nonprofits we support")
    a11y.check(public)
    shoot(public, "nonprofit-list")
    public.get_by_role("link", name="Readers of Nairobi").click()
    expect(public.locator(".nonprofit-description")).to_contain_text("forty Nairobi schools")
    expect(public.locator(".nonprofit-received")).to_have_text("$25,000.00")
    expect(public.locator(".profile__facts")).to_contain_text("Education")
    a11y.check(public)
    shoot(public, "nonprofit-page")
    public.get_by_role("link", name="Wanjiru Kamau").click()
    expect(public.get_by_role("heading", level=1)).to_have_text("Wanjiru Kamau")
    a11y.check(public)

    # The contact sees it approved.
    page.reload()
    expect(page.locator(".description-review .badge")).to_have_text("Approved")
    a11y.check(page)


def test_the_list_filters_in_place_with_htmx(page: Page, a11y, program):
    page.goto("/nonprofits/")
    expect(page.locator("#results-title")).to_have_text("2 nonprofits")
    page.wait_for_load_state("load")
    a11y.check(page)
    mark_page(page)
    page.get_by_label("Cause").select_option("health")
    expect(page).to_have_url(re.compile(r"[?&]cause=health"))
    expect(page.locator("#results-title")).to_have_text("1 nonprofit")
    assert names(page) == ["Clean Water Britain"]
    page.get_by_label("Country").select_option("KE")
    expect(page.locator("#results-title")).to_have_text("0 nonprofits")
    assert_not_reloaded(page)
    a11y.check(page)
    page.get_by_label("Cause").select_option("")
    expect(page.locator("#results-title")).to_have_text("1 nonprofit")
    assert names(page) == ["Readers of Nairobi"]
    a11y.check(page)


def test_the_list_filters_without_javascript(page_without_js, program):
    page = page_without_js
    page.goto("/nonprofits/")
    expect(page.locator("#results-title")).to_have_text("2 nonprofits")
    page.get_by_label("Country").select_option("GB")
    expect(page.locator("#results-title")).to_have_text("2 nonprofits")  # nothing yet
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert parse_qs(urlsplit(page.url).query)["country"] == ["GB"]
    expect(page.locator("#results-title")).to_have_text("1 nonprofit")
    assert names(page) == ["Clean Water Britain"]
    expect(page.get_by_label("Country")).to_have_value("GB")


@pytest.mark.parametrize(
    ("language", "heading", "country"),
    [
        ("en", "Nonprofits we support", "United Kingdom"),
        ("fr", None, "Royaume-Uni"),
        ("es", None, "Reino Unido"),
        ("ar", None, "المملكة المتحدة"),
    ],
)
def test_the_pages_open_in_every_language(
    page: Page, a11y, live_server, program, language, heading, country
):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.goto("/nonprofits/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("#results")).to_contain_text(country)
    a11y.check(page)
    page.get_by_role("link", name="Clean Water Britain").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clean Water Britain")
    expect(page.locator(".nonprofit-description")).to_contain_text("Water points")
    a11y.check(page)
    if language in ("ar", "fr"):
        shoot(page, f"nonprofit-page-{language}")
