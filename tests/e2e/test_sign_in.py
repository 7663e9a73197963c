"""Signing in and out through the forms, in a real browser, for staff and creators."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, CreatorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, username: str, password: str, a11y) -> None:
    page.goto("/")
    a11y.check(page)
    page.locator(".site-nav").get_by_role("link", name="Sign in").click()
    expect(page.get_by_label("Email")).to_be_visible()
    a11y.check(page)
    page.get_by_label("Email").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def test_staff_signs_in_and_lands_on_the_dashboard(page, a11y):
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)

    sign_in(page, staff.username, PASSWORD, a11y)

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1, name="Program dashboard")).to_be_visible()
    expect(page.locator(".site-nav").get_by_role("button", name="Sign out")).to_be_visible()
    a11y.check(page)


def test_creator_signs_in_sees_their_profile_link_and_signs_out(page, a11y):
    creator = CreatorFactory(display_name="Achieng Otieno", user=UserFactory())

    sign_in(page, creator.user.username, PASSWORD, a11y)

    expect(page).to_have_url(re.compile(r"/portal/$"))
    nav = page.locator(".site-nav")
    profile_link = nav.get_by_role("link", name="My profile")
    expect(profile_link).to_have_attribute("href", creator.get_absolute_url())
    a11y.check(page)
    profile_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Achieng Otieno")
    a11y.check(page)

    nav.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav.get_by_role("link", name="My profile")).to_have_count(0)


def test_wrong_password_shows_an_error_and_stays_signed_out(page, a11y, browser_log):
    user = UserFactory()

    sign_in(page, user.username, "not the password", a11y)

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    browser_log.expected("/accounts/login/", 422)  # refused, like every refused form
    expect(page.locator("main").get_by_role("alert")).to_contain_text("correct")
    a11y.check(page)  # the form with its error
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
