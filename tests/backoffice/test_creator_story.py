"""A creator's public profile with their impact story (changemakers/backoffice/stories.py):
each part only with the creator's consent, highlights only once approved and while the creator
wants them shown, the donation in public words, no payout details or contacts, a constant
number of queries, and a cache that shows every change on the next request."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from changemakers.core.roles import StaffRole
from creators.models import PublicField
from creators.services import creator_consent_confirm
from donations.models import Grant
from donations.services import grant_approve
from programs.models import ImpactIndicator, ImpactValue, ProgressUpdate, TikTokVideo
from programs.services import highlight_approve, highlight_request, highlight_withdraw
from tests.factories import (
    CohortFactory,
    CreatorFactory,
    DisbursementFactory,
    EnrolmentFactory,
    GrantFactory,
    MilestoneFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MISSION = "Make health literacy viral, one myth at a time."
NONPROFIT = "Open Medicine Foundation International"
PAYOUT_REFERENCE = "acct-secret-payee-9931"
CONTACT_EMAIL = "grants-secret@openmedicine.example"
CONTACT_USER = "contact-person@openmedicine.example"
BODY = "Four videos out; the creator's own words."
JOELS = "Joel Bervell\N{RIGHT SINGLE QUOTATION MARK}s"
SUMMARY = "Three myths debunked for 2.3 million viewers."


def _highlight(milestone, author, *, body=BODY, video_id="7300000000000000001", **fields):
    update = ProgressUpdate.objects.create(milestone=milestone, author=author, body=body, **fields)
    TikTokVideo.objects.create(
        update=update,
        url=f"https://www.tiktok.com/@joelbervell/video/{video_id}",
        video_id=video_id,
        status=TikTokVideo.Status.READY,
        title="Three medical myths",
        author_name="Joel Bervell",
        thumbnail=SimpleUploadedFile("thumb.jpg", b"\xff\xd8\xff\xe0fake", "image/jpeg"),
    )
    indicator, _ = ImpactIndicator.objects.get_or_create(name="Views", defaults={"unit": "views"})
    ImpactValue.objects.create(
        milestone=milestone, indicator=indicator, update=update, value=Decimal("2300000")
    )
    return update


@pytest.fixture
def joel(media_root):
    creator = CreatorFactory(
        display_name="Joel Bervell", handle="joelbervell", user=UserFactory(username="joel@x.org")
    )
    cohort = CohortFactory(name="Cohort 1 — autumn 2026")
    milestone = MilestoneFactory(
        enrolment=EnrolmentFactory(
            cohort=cohort, creator=creator, mission=MISSION, status="active"
        ),
        title="Month 2",
    )
    nonprofit = NonprofitFactory(
        legal_name=NONPROFIT,
        verification_status="verified",
        payout_reference=PAYOUT_REFERENCE,
        contact_email=CONTACT_EMAIL,
    )
    NonprofitContactFactory(nonprofit=nonprofit, user=UserFactory(username=CONTACT_USER))
    GrantFactory(creator=creator, nonprofit=nonprofit, status="disbursed")
    _highlight(
        milestone,
        creator.user,
        show_publicly=True,
        highlight=ProgressUpdate.Highlight.APPROVED,
        public_summary_en=SUMMARY,
        public_summary_fr="Trois mythes démontés pour 2,3 millions de personnes.",
    )
    creator.milestone = milestone
    return creator


def _page(client, handle="joelbervell", **headers) -> str:
    response = client.get(reverse("creators:creator-detail", args=[handle]), headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_profile_tells_the_whole_story(client, joel):
    page = _page(client)
    assert MISSION in page
    assert "Cohort 1 — autumn 2026" in page
    assert "Sept. 1, 2026" in page
    assert "March 1, 2027" in page
    assert NONPROFIT in page
    assert "$25,000.00 donated to" in page
    assert "Paid" in page
    assert SUMMARY in page
    assert BODY not in page
    assert "2,300,000 views" in page
    video = TikTokVideo.objects.get()
    assert video.get_thumbnail_url() in page
    assert "https://www.tiktok.com/@joelbervell/video/7300000000000000001" in page


def test_the_nonprofit_paid_leads_to_its_public_page(client, joel):
    grant = joel.grants.get()
    DisbursementFactory(grant=grant, status="succeeded", provider_reference="sbx_paid")
    nonprofit = grant.nonprofit
    assert f'<a href="{nonprofit.get_absolute_url()}">{NONPROFIT}</a>' in _page(client)


def test_a_nonprofit_only_granted_is_named_without_a_link(client, joel):
    joel.grants.update(status="approved")
    page = _page(client)
    assert NONPROFIT in page
    assert "/nonprofits/" not in page


def test_the_profile_shows_no_payout_details_or_contacts(client, joel):
    page = _page(client)
    for secret in (
        PAYOUT_REFERENCE,
        CONTACT_EMAIL,
        CONTACT_USER,
        "joel@x.org",
        "nonprofit.example",
    ):
        assert secret not in page


def test_the_highlight_reads_in_the_readers_language_where_staff_wrote_it(client, joel):
    assert "Trois mythes démontés" in _page(client, **{"Accept-Language": "fr"})
    client.cookies.load({"django_language": "fr"})
    assert "Trois mythes démontés" in _page(client)
    client.cookies.load({"django_language": "es"})
    assert SUMMARY in _page(client)  # no Spanish written: the English


@pytest.mark.parametrize(
    ("field", "marker"),
    [
        (PublicField.COHORT, MISSION),
        (PublicField.COHORT, "Cohort 1 — autumn 2026"),
        (PublicField.DONATION, NONPROFIT),
        (PublicField.HIGHLIGHTS, SUMMARY),
        (PublicField.HIGHLIGHTS, "/thumbnail/"),
    ],
)
def test_each_part_is_hidden_without_consent(client, joel, field, marker):
    assert marker in _page(client)
    others = [value for value in PublicField.values if value != field]
    creator_consent_confirm(creator=joel, actor=joel.user, public_fields=others)
    assert marker not in _page(client)


def test_a_creator_who_answered_before_the_story_existed_shows_none_of_it(client, joel):
    old_fields = ["photo", "bio", "country", "causes", "links", "followers"]
    creator_consent_confirm(creator=joel, actor=joel.user, public_fields=old_fields)
    page = _page(client)
    for marker in (MISSION, NONPROFIT, SUMMARY, "Cohort 1"):
        assert marker not in page


@pytest.mark.parametrize(
    ("show", "decision"),
    [
        (True, ProgressUpdate.Highlight.PENDING),
        (True, ProgressUpdate.Highlight.DECLINED),
        (False, ProgressUpdate.Highlight.APPROVED),  # withdrawn by the creator
        (False, ProgressUpdate.Highlight.PENDING),
    ],
)
def test_only_approved_highlights_the_creator_shows_are_public(client, joel, show, decision):
    _highlight(
        MilestoneFactory(enrolment=joel.milestone.enrolment),
        joel.user,
        body="Not for the public page.",
        video_id="7300000000000000009",
        show_publicly=show,
        highlight=decision,
    )
    page = _page(client)
    assert "Not for the public page." not in page
    hidden = TikTokVideo.objects.get(video_id="7300000000000000009")
    assert hidden.get_thumbnail_url() not in page
    # Its thumbnail is not public either.
    response = client.get(hidden.get_thumbnail_url())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_public_highlights_thumbnail_is_public_until_it_is_withdrawn(client, joel):
    url = TikTokVideo.objects.get().get_thumbnail_url()
    assert client.get(url).status_code == 200
    highlight_withdraw(update=ProgressUpdate.objects.get(), actor=joel.user)
    assert client.get(url).status_code == 302
    # Signed in as another creator: not theirs, a 404.
    client.force_login(CreatorFactory(user=UserFactory()).user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("approved", "granted to"),
        ("scheduled", "granted to"),
        ("processing", "granted to"),
        ("disbursed", "donated to"),
        ("proposed", None),
        ("cancelled", None),
        ("failed", None),
        ("unknown", None),
        ("reversed", None),
    ],
)
def test_the_donation_in_public_words(client, joel, status, words):
    Grant.objects.filter(creator=joel).update(status=status)
    page = _page(client)
    if words is None:
        assert NONPROFIT not in page
        assert 'id="donation-title"' not in page
    else:
        assert f"$25,000.00 {words} {NONPROFIT} in {JOELS} name" in page
        assert ("Paid" in page) == (status == "disbursed")
        assert ("the payment is on its way" in page) == (status != "disbursed")


def test_an_invited_or_withdrawn_place_is_not_the_story(client, joel):
    for status in ("invited", "withdrawn"):
        joel.enrolments.update(status=status)
        assert MISSION not in _page(client)


def test_the_profile_query_count_does_not_grow_with_the_story(
    client, joel, django_assert_num_queries
):
    # creator, links, list entries; the place, the donation, the highlights, their videos,
    # their figures
    with django_assert_num_queries(8):
        _page(client)
    for n in range(4):
        _highlight(
            MilestoneFactory(enrolment=joel.milestone.enrolment),
            joel.user,
            body=f"More {n}",
            video_id=f"73000000000000001{n}",
            show_publicly=True,
            highlight=ProgressUpdate.Highlight.APPROVED,
        )
    with django_assert_num_queries(8):
        page = _page(client)
    assert "More 3" in page


@pytest.mark.django_db(transaction=True)
def test_the_cached_story_shows_every_change_on_the_next_request(pages, client, joel):
    # Outside a test transaction, so each service's commit retires the cached parts as in
    # production.
    manager = StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])
    Grant.objects.filter(creator=joel).update(status="proposed")
    page = _page(client)
    assert SUMMARY in page
    assert NONPROFIT not in page
    grant_approve(
        grant=Grant.objects.get(creator=joel),
        actor=StaffFactory(roles=[StaffRole.FINANCE_APPROVER]),
    )
    assert f"granted to {NONPROFIT}" in _page(client)
    update = ProgressUpdate.objects.get()
    highlight_withdraw(update=update, actor=joel.user)
    assert SUMMARY not in _page(client)
    highlight_request(update=update, actor=joel.user)
    assert SUMMARY in _page(client)
    highlight_approve(update=update, actor=manager, summaries={"en": "A new summary."})
    assert "A new summary." in _page(client)
    creator_consent_confirm(creator=joel, actor=joel.user, public_fields=[PublicField.COHORT])
    page = _page(client)
    assert "A new summary." not in page
    assert NONPROFIT not in page
    assert MISSION in page
    # Cached indeed: a change behind the services' back shows only once the data changes.
    joel.enrolments.update(mission="Changed behind the services' back.")
    assert MISSION in _page(client)
