"""axe-core on every page of the product, as each kind of person sees it.

The journeys check the pages they pass through; this sweep checks the rest. It builds the
security proofs' world (tests/security/world.py: creators A and B, nonprofits X and Y, staff, a
program with something in every state), takes from the authorisation matrix every URL that
answers a role with a page (200, HTML), opens each in Chromium signed in as that role, and runs
axe-core on it: no serious or critical violation on any of them.

In which languages: English, and every right-to-left language (Arabic). What axe-core judges is
the markup, its names and the layout; a left-to-right translation changes only the words, in
the same markup and layout as English, so French and Spanish are not swept again in the
browser (each sweep of a language costs CI minutes). What a translation could break is checked
in every language elsewhere: every page's markup and `lang` by the Nu HTML checker
(tests/security/test_valid_html.py), every message translated (tests/test_i18n.py). A
right-to-left language mirrors the layout, so it is swept in full.

The admin staff use is swept too: its index, and for every registered model its list, its add
page where staff may add and the change page of one row (both lists: the draft and the
published one), with what this project's admin configuration puts on them (inlines,
autocompletes, read-only fields, actions), and the page an action that asks why shows. What
Django's own admin causes and the project cannot change is listed in `a11y.ADMIN_EXCLUSIONS`,
each with its reason.
"""

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils.translation import get_language_info
from playwright.sync_api import Page

from tests.e2e.a11y import ADMIN_EXCLUSIONS, Accessibility
from tests.security.matrix import MATRIX
from tests.security.probe import path_of, read
from tests.security.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# B and Y see the same pages as A and X, about their own objects.
PEOPLE = ("anonymous", "creator_a", "nonprofit_x", "staff")
# English and each right-to-left language (see above).
SWEPT = [
    code
    for code, _name in settings.LANGUAGES
    if code == settings.LANGUAGE_CODE or get_language_info(code)["bidi"]
]


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    return build_world()


def pages_for(world: World, role: str, client: Client) -> list[str]:
    """The matrix's URLs that answer `role` with an HTML page (htmx fragments are checked
    inside the pages that load them)."""
    paths = []
    for row in MATRIX:
        if row.get is None or dict(row.get.items())[role] != 200:
            continue
        path = path_of(row, world)
        response = client.get(path)
        body = read(response)
        html = response["Content-Type"].startswith("text/html")
        if response.status_code == 200 and html and b"<html" in body:
            paths.append(path)
    return paths


def sign_in_as(page: Page, world: World, role: str, live_server_url: str) -> Client:
    """The role's session in the browser (the sign-in form has its own journeys)."""
    client = world.client(role)
    if role != "anonymous":
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server_url,
                }
            ]
        )
    return client


@pytest.mark.parametrize("language", SWEPT)
@pytest.mark.parametrize("role", PEOPLE)
def test_every_page_a_person_can_open_passes_axe(
    page: Page, a11y: Accessibility, live_server, world: World, role: str, language: str
):
    client = sign_in_as(page, world, role, live_server.url)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    paths = pages_for(world, role, client)
    assert len(paths) >= {"anonymous": 12, "creator_a": 16, "nonprofit_x": 15, "staff": 35}[role]
    opened = []
    for path in paths:
        response = page.goto(path)
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"
        assert page.locator("html").get_attribute("lang") == language, path
        a11y.check(page)
        opened.append(path)
    assert opened == paths


def admin_pages(world: World, client: Client) -> list[str]:
    """The admin's index, then each registered model's list, add page (when staff may add)
    and the change page of its first row, as staff get them."""
    paths = [reverse("admin:index")]
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        info = (model._meta.app_label, model._meta.model_name)
        paths.append(reverse("admin:{}_{}_changelist".format(*info)))
        add = reverse("admin:{}_{}_add".format(*info))
        if client.get(add).status_code == 200:
            paths.append(add)
        rows = model._default_manager.order_by("pk")
        if model is type(world.draft):  # the draft's page adds entries; the published one not
            rows = rows.filter(pk__in=[world.draft.pk, world.published.pk])
        for row in rows[: 2 if model is type(world.draft) else 1]:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
    return paths


@pytest.mark.parametrize("language", SWEPT)
def test_every_admin_page_passes_axe(
    page: Page, a11y: Accessibility, live_server, world: World, language: str
):
    client = sign_in_as(page, world, "staff", live_server.url)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    a11y.exclusions = ADMIN_EXCLUSIONS
    paths = admin_pages(world, client)
    assert len(paths) >= 60, paths
    for path in paths:
        response = page.goto(path)
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"
        assert page.locator("html").get_attribute("lang") == language, path
        a11y.check(page)

    # The project's own intermediate page of an action that asks why (admin/transition_reason).
    page.goto(reverse("admin:donations_grant_changelist"))
    page.locator(f"input[name='_selected_action'][value='{world.proposed_x.pk}']").check()
    page.locator("select[name='action']").select_option("cancel")
    page.locator("button[name='index']").click()
    page.locator("textarea[name='transition-reason']").wait_for()
    a11y.check(page)


def test_the_sweeps_cover_english_and_arabic():
    assert SWEPT == ["en", "ar"]
