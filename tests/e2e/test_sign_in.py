"""Signing in and out through the forms, in a real browser, for staff and creators."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, CreatorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/")
    page.locator(".site-nav").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def test_staff_signs_in_and_lands_on_the_dashboard(page):
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)

    sign_in(page, staff.username, PASSWORD)

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1, name="Program dashboard")).to_be_visible()
    expect(page.locator(".site-nav").get_by_role("button", name="Sign out")).to_be_visible()


def test_creator_signs_in_sees_their_profile_link_and_signs_out(page):
    creator = CreatorFactory(display_name="Achieng Otieno", user=UserFactory())

    sign_in(page, creator.user.username, PASSWORD)

    expect(page).to_have_url(re.compile(r"/portal/$"))
    nav = page.locator(".site-nav")
    profile_link = nav.get_by_role("link", name="My profile")
    expect(profile_link).to_have_attribute("href", creator.get_absolute_url())
    profile_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Achieng Otieno")

    nav.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav.get_by_role("link", name="My profile")).to_have_count(0)


def test_wrong_password_shows_an_error_and_stays_signed_out(page):
    user = UserFactory()

    sign_in(page, user.username, "not the password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("main").get_by_role("alert")).to_contain_text("correct")
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
