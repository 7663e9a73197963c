"""The creator journey in a real browser: staff invite a new creator into a cohort by email;
the creator follows the link, sets a password, takes up their place, sends a progress update
with an attachment; staff approve it; the creator nominates a nonprofit and follows the
donation. Then the same update form without JavaScript."""

import datetime
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from donations.services import nonprofit_verify
from programs.clock import program_today
from programs.models import Milestone
from programs.services import (
    cohort_create,
    cohort_start,
    milestone_reminders_send,
)
from tests.e2e.journey import sign_in
from tests.factories import FundFactory, NonprofitFactory, UserFactory
from tests.uploads import pdf_file

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root"),
]


@pytest.fixture
def program(db):
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    cohort = cohort_create(name="Cohort Browser", start_date=program_today(), actor=staff)
    cohort_start(cohort=cohort, actor=staff)
    FundFactory(name="Change Makers Fund")
    nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Readers of Nairobi", country="KE"), actor=staff
    )
    return {"staff": staff, "cohort": cohort}


def test_invited_creator_completes_a_milestone_and_nominates_a_nonprofit(
    page, new_page, a11y, browser_log, program, tmp_path
):
    # Staff invite a new creator from the cohort page (htmx form).
    sign_in(page, "staff@example.org", a11y=a11y)
    a11y.check(page)  # the dashboard, where staff land
    page.goto(f"/staff/cohorts/{program['cohort'].pk}/")
    a11y.check(page)
    invite = page.locator("form", has_text="A new creator, by email")
    invite.get_by_label(re.compile("^Name")).fill("Wanjiru Kamau")
    invite.get_by_label("Handle").fill("@wanjiru.reads")
    invite.get_by_label(re.compile("^Email")).fill("wanjiru@example.org")
    invite.get_by_label("Country").select_option("KE")
    invite.get_by_label("Education").check()
    invite.get_by_role("button", name="Invite by email").click()
    expect(page.get_by_role("status").filter(has_text="Wanjiru Kamau is invited")).to_be_visible()
    # The grid re-fetched itself on the htmx event.
    expect(page.locator("#progress")).to_contain_text("Wanjiru Kamau")
    a11y.check(page)

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+(/accounts/invitation/\S+/)", mail.outbox[0].body).group(1)

    # The creator follows the link in their own browser and chooses a password.
    creator_page = new_page()
    creator_page.goto(link)
    a11y.check(creator_page)
    creator_page.get_by_label(re.compile("^New password:")).fill("reading is power 2026")
    creator_page.get_by_label("New password confirmation").fill("reading is power 2026")
    creator_page.get_by_role("button", name="Set my password and open my portal").click()
    expect(creator_page).to_have_url(re.compile(r"/portal/$"))
    expect(creator_page.get_by_role("heading", level=1)).to_have_text("Hello, Wanjiru Kamau")
    a11y.check(creator_page)

    # The link is single-use.
    creator_page.goto(link)
    expect(creator_page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    browser_log.expected(link, 410)
    a11y.check(creator_page)

    # They sign out, and sign in again with their email address and new password.
    creator_page.locator(".site-nav").get_by_role("button", name="Sign out").click()
    expect(creator_page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
    a11y.check(creator_page)  # the home page, signed out
    sign_in(creator_page, "wanjiru@example.org", "reading is power 2026", a11y=a11y)
    expect(creator_page).to_have_url(re.compile(r"/portal/$"))

    # They take up their place: the plan's milestones appear.
    creator_page.get_by_role("button", name="Take up my place").click()
    expect(creator_page.locator(".timeline")).to_contain_text("Kickoff")
    a11y.check(creator_page)
    creator_page.get_by_role("link", name="Kickoff").click()
    expect(creator_page.get_by_role("heading", level=1)).to_have_text("Kickoff")
    a11y.check(creator_page)

    # A progress update with an attachment, sent through htmx.
    attachment = tmp_path / "kickoff-report.pdf"
    attachment.write_bytes(pdf_file().read())
    creator_page.get_by_label("What happened").fill("Kickoff call done; three videos planned.")
    creator_page.get_by_label("Link").fill("https://example.org/wanjiru/kickoff")
    creator_page.get_by_label("Attachment").set_input_files(attachment)
    creator_page.get_by_role("button", name="Send my update").click()
    expect(creator_page.get_by_role("status")).to_contain_text("Your update is sent.")
    expect(creator_page.locator("#milestone-body")).to_contain_text("Submitted")
    expect(creator_page.get_by_role("link", name="Download the attachment")).to_be_visible()
    a11y.check(creator_page)

    # Staff approve it from the review queue (htmx).
    page.goto("/staff/reviews/")
    a11y.check(page)
    page.get_by_role("link", name="Kickoff").click()
    expect(page.get_by_label("Feedback for the creator")).to_be_visible()
    a11y.check(page)
    page.get_by_label("Feedback for the creator").fill("A strong start, thank you!")
    page.get_by_role("button", name="Approve").click()
    # The only milestone waiting: back to the queue, all caught up.
    expect(page).to_have_url(re.compile(r"/staff/reviews/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "You approved “Kickoff” of Wanjiru Kamau. All caught up"
    )
    a11y.check(page)
    kickoff = Milestone.objects.get(enrolment__creator__handle="wanjiru.reads", title="Kickoff")
    assert kickoff.status == Milestone.Status.APPROVED
    assert mail.outbox[-1].to == ["wanjiru@example.org"]
    assert "approved" in mail.outbox[-1].subject

    # The creator sees the approval and the feedback.
    creator_page.goto("/portal/")
    kickoff_item = creator_page.locator(".timeline__item", has_text="Kickoff")
    expect(kickoff_item).to_contain_text("Approved")
    kickoff_item.get_by_role("link", name="Kickoff").click()
    expect(creator_page.locator(".feedback")).to_contain_text("A strong start, thank you!")
    a11y.check(creator_page)

    # A week before the next milestone the daily job reminds them; the link opens it.
    month_two = Milestone.objects.get(
        enrolment__creator__handle="wanjiru.reads", title="Month 2 check-in"
    )
    milestone_reminders_send(today=month_two.due_date - datetime.timedelta(days=7))
    milestone_reminders_send(today=month_two.due_date - datetime.timedelta(days=6))
    reminders = [m for m in mail.outbox if "is due in a week" in m.subject]
    assert [m.to for m in reminders] == [["wanjiru@example.org"]]
    reminder_link = re.search(r"https?://\S+(/portal/milestones/\d+/)", reminders[0].body)
    creator_page.goto(reminder_link.group(1))
    expect(creator_page.get_by_role("heading", level=1)).to_have_text("Month 2 check-in")
    a11y.check(creator_page)

    # They nominate a verified nonprofit and follow the donation.
    creator_page.goto("/portal/")
    creator_page.get_by_role("link", name="Nominate a nonprofit").click()
    expect(creator_page.get_by_label("Verified nonprofit")).to_be_visible()
    a11y.check(creator_page)
    creator_page.get_by_label("Verified nonprofit").select_option(label="Readers of Nairobi")
    creator_page.get_by_role("button", name="Nominate this nonprofit").click()
    expect(creator_page).to_have_url(re.compile(r"/portal/donation/#live-done$"))
    expect(creator_page.get_by_role("heading", level=2).first).to_contain_text(
        "USD 25,000 in your name"
    )
    # The thanks sit on the donation, focused.
    expect(creator_page.locator("#live-done")).to_have_text(
        "Thank you! Your nomination is with the program team."
    )
    expect(creator_page.locator("#live-done")).to_be_focused()
    expect(creator_page.locator("[aria-current=step]")).to_have_text("Proposed")
    a11y.check(creator_page)
    creator_page.goto("/portal/")
    expect(creator_page.locator("#donation-title + p")).to_contain_text("Readers of Nairobi")
    a11y.check(creator_page)


def test_profile_and_update_forms_work_without_javascript(page_without_js, program):
    from programs.services import enrolment_activate, enrolment_invite
    from tests.factories import CreatorFactory

    creator = CreatorFactory(display_name="Kara Lewis", handle="karaxlewis", user=UserFactory())
    enrolment = enrolment_invite(cohort=program["cohort"], creator=creator, actor=program["staff"])
    enrolment_activate(enrolment=enrolment, actor=creator.user)
    page = page_without_js

    sign_in(page, creator.user.username)
    expect(page).to_have_url(re.compile(r"/portal/$"))

    page.get_by_role("link", name="Edit my profile").click()
    page.get_by_label("Bio").fill("Photographer telling untold stories.")
    page.get_by_label("Email language").select_option("fr")
    page.get_by_role("button", name="Save my profile").click()
    # Without JavaScript too, "Saved" beside the button, not at the top of the page.
    expect(page.locator(".form-actions #profile-saved")).to_have_text("Saved")
    expect(page.locator(".messages")).to_have_count(0)
    creator.refresh_from_db()
    assert (creator.bio, creator.language) == ("Photographer telling untold stories.", "fr")

    page.goto("/portal/")
    page.get_by_role("link", name="Kickoff").click()
    page.get_by_label("What happened").fill("Kickoff done, without JavaScript.")
    page.get_by_role("button", name="Send my update").click()
    expect(page.locator(".messages")).to_contain_text("Your update is sent.")
    expect(page.locator("main")).to_contain_text("Your update is with the program team")
