"""Staff write a list's introduction in French in a real browser; a French reader sees it,
and a citation nobody translated shows in English, marked as English."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from creators.models import ChangeMakersList, Creator
from creators.services import list_publish
from tests.e2e.journey import shoot, sign_in
from tests.factories import ChangeMakersListFactory, CreatorFactory, ListEntryFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff():
    edition = ChangeMakersListFactory(year=2027, title="Change Makers 2027")
    creator = CreatorFactory(
        display_name="Joel Bervell",
        handle="joelbervell",
        country="EG",
        consent=Creator.Consent.AGREED,
        public_fields=["country"],
    )
    ListEntryFactory(
        change_makers_list=edition, creator=creator, citation="Medicine without the myths."
    )
    return UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)


def test_staff_write_a_french_introduction_that_a_french_reader_sees(
    page: Page, new_page, a11y, staff
):
    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/lists/2027/")
    a11y.check(page)
    page.get_by_text("Edit the title and introduction").click()
    text_form = page.locator("form", has=page.get_by_role("button", name="Save", exact=True))
    text_form.get_by_label("Introduction:", exact=True).fill("Creators who make a difference.")
    text_form.locator("summary", has_text="Introduction in other languages").click()
    group = text_form.get_by_role("group", name="Introduction in other languages")
    french = group.get_by_label("French")
    expect(french).to_have_attribute("lang", "fr")
    expect(group.get_by_label("Arabic")).to_have_attribute("dir", "rtl")
    french.fill("Des créateurs qui font la différence.")
    group.get_by_label("Arabic").fill("صنّاع محتوى يصنعون الفرق.")
    a11y.check(page)
    shoot(page, "edition-languages")
    text_form.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("are saved")
    a11y.check(page)

    list_publish(change_makers_list=ChangeMakersList.objects.get(year=2027), actor=staff)

    reader = new_page()
    site = re.match(r"https?://[^/]+/", page.url)[0]
    reader.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "fr", "url": site}]
    )
    reader.goto("/list/2027/")
    expect(reader.locator("html")).to_have_attribute("lang", "fr")
    expect(reader.locator(".page-heading .prose")).to_have_text(
        "Des créateurs qui font la différence."
    )
    citation = reader.locator(".entry__citation")
    expect(citation).to_have_text("Medicine without the myths.")
    expect(citation).to_have_attribute("lang", "en")
    expect(reader.locator(".entry__meta")).to_contain_text("Égypte")
    a11y.check(reader)
    shoot(reader, "list-fr")

    reader.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ar", "url": site}]
    )
    reader.goto("/list/2027/")
    expect(reader.locator("html")).to_have_attribute("dir", "rtl")
    expect(reader.locator(".page-heading .prose")).to_have_text("صنّاع محتوى يصنعون الفرق.")
    a11y.check(reader)
    shoot(reader, "list-ar")
    assert re.search(r"/list/2027/$", reader.url)
