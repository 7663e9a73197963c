"""The pages people open on a phone, in a real browser 390 pixels wide with touch: the public
list (its filters folded away so the first screen shows creators), a creator's portal, a
nonprofit's grants, the public nonprofits list and the staff grant pipeline (each row's
buttons within reach, no sideways scrolling). No page scrolls sideways.

With SHOTS_DIR set, each page is also photographed at 390 and 1280 pixels wide."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from changemakers.core.roles import StaffRole
from creators.models import Cause
from creators.services import list_publish
from donations.services import (
    grant_approve,
    grant_propose,
    nonprofit_causes_set,
    nonprofit_description_approve,
    nonprofit_description_submit,
    nonprofit_verify,
)
from programs.clock import program_today
from programs.services import cohort_create, cohort_start, enrolment_activate, enrolment_invite
from tests.e2e.journey import paid_grant, shoot, sign_in, signed_in, wait_for_htmx
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    FundFactory,
    ListEntryFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390
PHONE_HEIGHT = 844
# The smallest comfortable target for a finger (WCAG 2.5.5, Apple's and Google's guides).
TAP = 44


def assert_fits_the_phone(page: Page) -> None:
    """Nothing makes the page scroll sideways."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth,"
        " [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className)]"
    )
    # On a phone the browser widens its layout to fit content that overflows, so the window's
    # inner width is checked as well as the scroll width against it.
    assert widths[0] <= widths[1] == PHONE_WIDTH, f"{page.url} scrolls sideways: {widths}"


def assert_within_reach(control: Locator, *, tap: bool = True) -> None:
    """On the screen's width (no sideways scrolling to reach it) and big enough for a finger."""
    box = control.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE_WIDTH, box
    if tap:
        assert box["height"] >= TAP, box


@pytest.fixture
def staff():
    return UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def proposer():
    return UserFactory(username="proposer@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def published_list():
    change_makers_list = ChangeMakersListFactory(year=2026, title="Change Makers 2026")
    change_makers_list.introduction = (
        "Creators from around the world who use their voice for social impact: teachers, "
        "doctors, climate scientists and storytellers with millions of followers between them."
    )
    change_makers_list.save(update_fields=["introduction"])
    people = [
        ("Achieng Otieno", "KE"),
        ("Baraka Mwangi", "KE"),
        ("Chloe Bennett", "GB"),
        ("Dapo Adeyemi", "NG"),
        ("Élodie Marchand-Lefèvre", "FR"),
    ]
    for position, (name, country) in enumerate(people, start=1):
        ListEntryFactory(
            change_makers_list=change_makers_list,
            creator=CreatorFactory(display_name=name, country=country),
            cause=Cause.EDUCATION,
            position=position,
            citation="Makes science make sense for millions of teenagers, one minute at a time.",
        )
    ChangeMakersListFactory(year=2025)
    return list_publish(change_makers_list=change_makers_list, actor=UserFactory(is_staff=True))


def test_the_public_list_shows_creators_first_and_its_filters_on_request(
    phone_page: Page, a11y, published_list
):
    page = phone_page
    page.goto("/list/2026/")
    page.wait_for_load_state("load")
    a11y.check(page)
    assert_fits_the_phone(page)
    # The filters are folded: the first creator shows on the first screen.
    filters = page.locator(".filters-fold")
    expect(filters.locator("summary")).to_have_text("Filters")
    expect(page.get_by_label("Country")).to_be_hidden()
    first = page.locator("#results .entry").first
    expect(first).to_contain_text("Achieng Otieno")
    box = first.bounding_box()
    assert box is not None
    assert box["y"] < PHONE_HEIGHT, box
    assert_within_reach(filters.locator("summary"))
    shoot(page, "list")

    # A tap unfolds them; choosing a country filters in place.
    filters.locator("summary").tap()
    expect(page.get_by_label("Country")).to_be_visible()
    assert_within_reach(page.get_by_role("button", name="Filter"))
    assert_fits_the_phone(page)
    a11y.check(page)
    page.get_by_label("Country").select_option("KE")
    expect(page.locator("#results-title")).to_have_text("2 creators")
    expect(filters.locator("summary")).to_have_text("Filters (1 active)")

    # A filtered list, opened afresh (a shared link), shows its filters open.
    page.reload()
    expect(page.locator("#results-title")).to_have_text("2 creators")
    expect(filters.locator("summary")).to_have_text("Filters (1 active)")
    expect(page.get_by_label("Country")).to_be_visible()
    expect(page.get_by_label("Country")).to_have_value("KE")
    assert_fits_the_phone(page)
    a11y.check(page)
    shoot(page, "list-filtered")


def test_the_list_filters_open_and_apply_without_javascript_on_a_phone(
    phone_page_without_js: Page, published_list
):
    page = phone_page_without_js
    page.goto("/list/2026/")
    expect(page.get_by_label("Country")).to_be_hidden()
    page.locator(".filters-fold summary").tap()
    page.get_by_label("Country").select_option("KE")
    page.get_by_role("button", name="Filter").tap()
    expect(page).to_have_url(re.compile(r"/list/2026/\?.*country=KE"))
    expect(page.locator("#results-title")).to_have_text("2 creators")
    expect(page.locator(".filters-fold summary")).to_have_text("Filters (1 active)")
    expect(page.get_by_label("Country")).to_be_visible()
    assert_fits_the_phone(page)


def test_a_creator_reads_their_portal_and_edits_their_profile_on_a_phone(
    phone_page: Page, a11y, live_server, staff
):
    page = phone_page
    cohort = cohort_create(name="Cohort Phones 2026", start_date=program_today(), actor=staff)
    cohort_start(cohort=cohort, actor=staff)
    creator = CreatorFactory(
        user=UserFactory(username="wanjiru@example.org"),
        display_name="Wanjiru Kamau-Njoroge",
        handle="wanjiru.reads.every.day",
    )
    enrolment = enrolment_invite(
        cohort=cohort, creator=creator, mission="Get every teenager reading.", actor=staff
    )
    enrolment_activate(enrolment=enrolment, actor=creator.user)
    signed_in(page, creator.user, live_server.url)

    page.goto("/portal/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Wanjiru Kamau-Njoroge")
    a11y.check(page)
    assert_fits_the_phone(page)
    shoot(page, "portal-home")

    page.goto("/portal/profile/")
    a11y.check(page)
    assert_fits_the_phone(page)
    bio = page.get_by_label("Bio")
    # Fields use the screen's width.
    bio_box = bio.bounding_box()
    main_box = page.locator("main .container").first.bounding_box()
    assert bio_box is not None
    assert main_box is not None
    assert bio_box["width"] >= main_box["width"] - 4 * 16 - 2, (bio_box, main_box)
    save = page.get_by_role("button", name=re.compile("Save"))
    save.scroll_into_view_if_needed()
    assert_within_reach(save)
    shoot(page, "portal-profile")
    bio.fill("Reading clubs on camera, every day.")
    save.tap()
    expect(page.locator("#profile-saved")).to_have_text("Saved")
    assert_fits_the_phone(page)
    a11y.check(page)


@pytest.fixture
def nonprofits(staff, proposer):
    vetter = StaffFactory(username="vetter@example.org", roles=[StaffRole.NONPROFIT_VETTER])
    wanjiru = CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads", country="KE")
    readers = nonprofit_verify(
        nonprofit=NonprofitFactory(
            legal_name="Readers of Nairobi Community Libraries Trust",
            country="KE",
            slug="readers-of-nairobi",
        ),
        actor=staff,
    )
    nonprofit_causes_set(nonprofit=readers, causes=["education"], actor=staff)
    paid_grant(readers, staff, proposer, creator=wanjiru)
    nonprofit_description_submit(
        nonprofit=readers, description="Reading clubs in forty schools.", actor=staff
    )
    nonprofit_description_approve(nonprofit=readers, actor=vetter)
    water = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Clean Water Britain", country="GB", slug="water"),
        actor=staff,
    )
    nonprofit_causes_set(nonprofit=water, causes=["health", "environment"], actor=staff)
    paid_grant(water, staff, proposer)
    contact = NonprofitContactFactory(
        nonprofit=readers, user=UserFactory(username="amani@readers.example")
    )
    return {"readers": readers, "contact": contact}


def test_a_nonprofit_follows_its_grants_on_a_phone(phone_page: Page, a11y, live_server, nonprofits):
    page = phone_page
    signed_in(page, nonprofits["contact"].user, live_server.url)
    page.goto("/nonprofit/")
    expect(page.locator("main")).to_contain_text("Donation in the name of Wanjiru Kamau")
    a11y.check(page)
    assert_fits_the_phone(page)
    shoot(page, "nonprofit-grants")

    page.get_by_role("link", name=re.compile("Donation in the name of Wanjiru Kamau")).tap()
    expect(page).to_have_url(re.compile(r"/nonprofit/grants/\d+/$"))
    a11y.check(page)
    assert_fits_the_phone(page)
    confirm = page.get_by_role("button", name=re.compile("received", re.IGNORECASE))
    confirm.scroll_into_view_if_needed()
    assert_within_reach(confirm)
    shoot(page, "nonprofit-grant")

    page.goto("/nonprofit/details/")
    a11y.check(page)
    assert_fits_the_phone(page)
    shoot(page, "nonprofit-details")


def test_the_public_browses_the_nonprofits_on_a_phone(phone_page: Page, a11y, nonprofits):
    page = phone_page
    page.goto("/nonprofits/")
    expect(page.locator("#results-title")).to_have_text("2 nonprofits")
    page.wait_for_load_state("load")
    a11y.check(page)
    assert_fits_the_phone(page)
    shoot(page, "nonprofits")

    page.get_by_role("link", name="Readers of Nairobi Community Libraries Trust").tap()
    expect(page.locator(".nonprofit-description")).to_contain_text("forty schools")
    a11y.check(page)
    assert_fits_the_phone(page)
    shoot(page, "nonprofit-page")


def test_staff_approve_and_review_payment_from_the_pipeline_on_a_phone(
    phone_page: Page, a11y, staff, proposer
):
    page = phone_page
    fund = FundFactory(name="Change Makers Fund 2026", total=Decimal("1000000.00"))
    proposed = grant_propose(
        fund=fund,
        nonprofit=nonprofit_verify(
            nonprofit=NonprofitFactory(legal_name="Code Lagos Initiative", country="NG"),
            actor=staff,
        ),
        creator=CreatorFactory(display_name="Chiamaka Okafor"),
        amount="25000.00",
        purpose="Donation in the name of Chiamaka Okafor",
        actor=proposer,
    )
    approved = grant_approve(
        grant=grant_propose(
            fund=fund,
            nonprofit=nonprofit_verify(
                nonprofit=NonprofitFactory(legal_name="Readers of Nairobi", country="KE"),
                actor=staff,
            ),
            creator=None,
            amount="10000.00",
            purpose="Program grant",
            actor=proposer,
        ),
        actor=staff,
    )

    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/grants/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)
    assert_fits_the_phone(page)
    # The filters are folded: the grants come first.
    filters = page.locator("#pipeline .filters-fold")
    expect(filters.locator("summary")).to_have_text("Filters")
    expect(filters.get_by_label("Search")).to_be_hidden()
    assert_within_reach(filters.locator("summary"))
    shoot(page, "staff-grants")

    # The approved grant's checkbox and the proposed grant's Approve button are on the screen.
    tick = page.locator(f"#select-grant-{approved.pk}")
    tick.scroll_into_view_if_needed()
    assert_within_reach(tick, tap=False)
    row = page.locator(f"#grant-{proposed.pk}")
    approve = row.get_by_role("button", name="Approve")
    approve.scroll_into_view_if_needed()
    assert_within_reach(approve)
    approve.tap()
    expect(row.locator(".badge")).to_have_text("Approved")
    assert_fits_the_phone(page)
    a11y.check(page)

    # Both are ticked and reviewed together.
    page.locator(f"#select-grant-{approved.pk}").check()
    page.locator(f"#select-grant-{proposed.pk}").check()
    review = page.get_by_role("button", name="Review payment")
    review.scroll_into_view_if_needed()
    assert_within_reach(review)
    review.tap()
    expect(page).to_have_url(re.compile(r"/staff/grants/schedule/review/"))
    expect(page.locator("main")).to_contain_text("Code Lagos Initiative")
    expect(page.locator("main")).to_contain_text("Readers of Nairobi")
    a11y.check(page)
    assert_fits_the_phone(page)
    # What will be paid is on the screen, each amount and the total.
    for grant in (proposed, approved):
        assert_within_reach(page.locator(f"#review-grant-{grant.pk} .num"), tap=False)
    expect(page.locator("#review-grants tfoot")).to_contain_text("$35,000.00")
    assert_within_reach(page.locator("#review-grants tfoot .num"), tap=False)
    assert_within_reach(page.get_by_role("button", name="Pay 2 grants"))
    shoot(page, "staff-review")

    # A filter other than the status tabs' unfolds the filters, and says how many narrow it.
    page.goto("/staff/grants/?country=NG")
    expect(filters.locator("summary")).to_have_text("Filters (1 active)")
    expect(filters.get_by_label("Country")).to_have_value("NG")
    expect(page.locator("#results-title")).to_have_text("1 grant")
    a11y.check(page)
    assert_fits_the_phone(page)
