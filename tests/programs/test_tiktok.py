"""TikTok videos on progress updates: which links are accepted, the preview job against the
oEmbed stand-in (success, TikTok saying no, busy and down, retries, the sweeper), our own copy
of the thumbnail, and the preview card that loads nothing from TikTok."""

import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from programs.forms import ProgressUpdateForm
from programs.models import Milestone, TikTokVideo
from programs.services import progress_update_submit, tiktok_previews_sweep
from programs.tasks import fetch_tiktok_preview
from programs.tiktok import thumbnail_address_allowed, video_link_parse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

VIDEO = "https://www.tiktok.com/@joelbervell/video/7300000000000000001"


# --- Which links are accepted --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (VIDEO, VIDEO),
        (VIDEO + "/", VIDEO),
        (VIDEO + "?is_from_webapp=1&sender_device=pc", VIDEO),
        ("http://tiktok.com/@joelbervell/video/7300000000000000001", VIDEO),
        ("https://m.tiktok.com/@joelbervell/video/7300000000000000001#x", VIDEO),
        ("www.tiktok.com/@joelbervell/video/7300000000000000001", VIDEO),
        (
            "https://www.tiktok.com/@wanjiru.reads/video/42",
            "https://www.tiktok.com/@wanjiru.reads/video/42",
        ),
    ],
)
def test_video_links_are_made_canonical(given, canonical):
    assert video_link_parse(given).url == canonical


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("https://vm.tiktok.com/ZMabcdef/", "tiktok_short_link"),
        ("https://www.tiktok.com/t/ZTRabc/", "tiktok_short_link"),
        ("https://www.tiktok.com/@joelbervell", "not_tiktok_video"),
        ("https://www.youtube.com/watch?v=abc", "not_tiktok_video"),
        ("https://tiktok.com.evil.example/@a/video/1", "not_tiktok_video"),
        ("https://evil.example/@a/video/1?u=tiktok.com", "not_tiktok_video"),
        ("javascript:alert(1)//tiktok.com/@a/video/1", "not_tiktok_video"),
        ("ftp://www.tiktok.com/@a/video/1", "not_tiktok_video"),
        ("https://www.tiktok.com/@a/video/12ab", "not_tiktok_video"),
        ("https://www.tiktok.com/@a b/video/1", "not_tiktok_video"),
    ],
)
def test_other_links_are_refused_with_a_message(given, code):
    with pytest.raises(ValidationError) as refused:
        video_link_parse(given)
    assert refused.value.code == code
    assert "https://www.tiktok.com/@handle/video/1234567890" in refused.value.messages[0]


def test_the_form_names_each_bad_line_and_caps_the_count():
    form = ProgressUpdateForm(
        {"body": "Done.", "tiktok_links": f"{VIDEO}\nhttps://vm.tiktok.com/ZMx/\nnot a link"}
    )
    assert not form.is_valid()
    errors = form.errors["tiktok_links"]
    assert len(errors) == 2
    assert "vm.tiktok.com" in errors[0]
    assert "not a link" in errors[1]

    many = "\n".join(f"https://www.tiktok.com/@a/video/{n}" for n in range(6))
    form = ProgressUpdateForm({"body": "Done.", "tiktok_links": many})
    assert not form.is_valid()
    assert "At most 5" in form.errors["tiktok_links"][0]

    form = ProgressUpdateForm({"body": "Done.", "tiktok_links": f"\n {VIDEO}?a=1 \n\n"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tiktok_links"] == [VIDEO]


def test_thumbnails_are_fetched_only_from_tiktok_cdn_over_https_or_the_endpoint(settings):
    settings.TIKTOK_OEMBED_URL = "https://www.tiktok.com/oembed"
    assert thumbnail_address_allowed("https://p16-sign.tiktokcdn-us.com/obj/a.jpeg?x=1")
    assert thumbnail_address_allowed("https://www.tiktok.com/thumb.jpg")
    assert not thumbnail_address_allowed("http://p16-sign.tiktokcdn-us.com/obj/a.jpeg")
    assert not thumbnail_address_allowed("https://169.254.169.254/latest/meta-data")
    assert not thumbnail_address_allowed("https://eviltiktokcdn.com/a.jpg")
    assert not thumbnail_address_allowed("https://tiktokcdn.com.evil.example/a.jpg")
    assert not thumbnail_address_allowed("http://127.0.0.1:8000/a.jpg")


# --- The preview job -----------------------------------------------------------------------


@pytest.fixture
def milestone(enrolment):
    return enrolment.milestones.order_by("due_date").first()


def _submit(milestone, creator_user, links, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        update = progress_update_submit(
            milestone=milestone, author=creator_user, body="Videos out.", tiktok_links=links
        )
    return update


def test_a_submitted_link_gets_its_preview_and_our_copy_of_the_thumbnail(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video(title="Three myths about fevers", author_name="Joel Bervell")
    update = _submit(
        milestone, creator_user, [link + "?lang=en"], django_capture_on_commit_callbacks
    )

    video = update.tiktok_videos.get()
    assert video.url == link
    assert video.status == TikTokVideo.Status.READY
    assert (video.title, video.author_name) == ("Three myths about fevers", "Joel Bervell")
    assert video.author_url == "https://www.tiktok.com/@joelbervell"
    assert video.attempts == 0
    assert video.fetched_at is not None
    assert tiktok_standin.requests == ["/oembed", "/thumbnails/7300000000000000001.jpg"]
    # Our copy: re-encoded from its pixels, nothing else it carried (the EXIF is gone).
    assert video.thumbnail.name.startswith("programs/tiktok/")
    assert video.thumbnail.name.endswith(".jpg")
    with video.thumbnail.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.SUBMITTED


def test_running_the_job_again_fetches_nothing(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video()
    update = _submit(milestone, creator_user, [link], django_capture_on_commit_callbacks)
    video = update.tiktok_videos.get()
    asked = len(tiktok_standin.requests)

    assert fetch_tiktok_preview.delay(video.pk).get() == "ready"
    assert len(tiktok_standin.requests) == asked
    assert TikTokVideo.objects.get(pk=video.pk).thumbnail.name == video.thumbnail.name


def test_an_unknown_video_keeps_its_plain_link_and_is_not_tried_again(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    update = _submit(milestone, creator_user, [VIDEO], django_capture_on_commit_callbacks)

    video = update.tiktok_videos.get()
    assert video.status == TikTokVideo.Status.UNAVAILABLE
    assert video.attempts == 1
    assert "HTTP 404" in video.last_error
    assert not video.thumbnail
    assert not video.title
    assert tiktok_standin.requests == ["/oembed"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_tiktok_busy_or_down_is_retried_until_it_answers(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks, status
):
    link = tiktok_standin.add_video()
    tiktok_standin.fail_next(2, status=status, path="/oembed")
    # Tasks run eagerly here: the job's retries run at once, each counted in the database.
    update = _submit(milestone, creator_user, [link], django_capture_on_commit_callbacks)

    video = update.tiktok_videos.get()
    assert video.status == TikTokVideo.Status.READY
    assert video.attempts == 2
    assert tiktok_standin.requests.count("/oembed") == 3


def test_a_preview_that_keeps_failing_stays_a_plain_link(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks, settings
):
    link = tiktok_standin.add_video()
    tiktok_standin.fail_next(10, status=503, path="/oembed")
    update = _submit(milestone, creator_user, [link], django_capture_on_commit_callbacks)

    video = update.tiktok_videos.get()
    assert video.status == TikTokVideo.Status.UNAVAILABLE
    assert video.attempts == settings.TIKTOK_MAX_ATTEMPTS == 3
    assert "HTTP 503" in video.last_error


def test_a_timeout_counts_as_a_failed_try_and_sets_the_next(
    milestone, creator_user, tiktok_standin, settings, django_capture_on_commit_callbacks
):
    from programs.services import tiktok_preview_fetch

    settings.TIKTOK_TIMEOUT = 0.3
    link = tiktok_standin.add_video()
    with django_capture_on_commit_callbacks(execute=False):
        update = progress_update_submit(
            milestone=milestone, author=creator_user, body="Out.", tiktok_links=[link]
        )
    video = update.tiktok_videos.get()
    tiktok_standin.delay_next(1, seconds=2, path="/oembed")
    before = timezone.now()

    video = tiktok_preview_fetch(video_id=video.pk)

    assert video.status == TikTokVideo.Status.PENDING
    assert video.attempts == 1
    assert "timed out" in video.last_error.lower() or "timeout" in video.last_error.lower()
    assert video.next_attempt_at >= before + datetime.timedelta(
        seconds=settings.TIKTOK_RETRY_BACKOFF
    )


def test_a_thumbnail_that_is_no_image_leaves_the_plain_link(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video(thumbnail=b"<html><script>alert(1)</script></html>")
    update = _submit(milestone, creator_user, [link], django_capture_on_commit_callbacks)

    video = update.tiktok_videos.get()
    assert video.status == TikTokVideo.Status.UNAVAILABLE
    assert "not a JPEG" in video.last_error
    assert not video.thumbnail


def test_a_thumbnail_elsewhere_than_tiktok_is_never_fetched(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video(thumbnail_url="http://10.0.0.1/internal.jpg")
    update = _submit(milestone, creator_user, [link], django_capture_on_commit_callbacks)

    video = update.tiktok_videos.get()
    assert video.status == TikTokVideo.Status.UNAVAILABLE
    assert "host we do not fetch" in video.last_error
    assert tiktok_standin.requests == ["/oembed"]


def test_the_sweeper_queues_only_pending_previews_that_are_due(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video()
    with django_capture_on_commit_callbacks(execute=False):
        update = progress_update_submit(
            milestone=milestone,
            author=creator_user,
            body="Out.",
            tiktok_links=[link, "https://www.tiktok.com/@a/video/99"],
        )
    first, second = update.tiktok_videos.order_by("position")
    now = timezone.now()
    # Just added (its own task is on its way): left alone. Due long ago: queued.
    assert tiktok_previews_sweep(now=now) == 0
    TikTokVideo.objects.filter(pk=second.pk).update(
        attempts=1, next_attempt_at=now + datetime.timedelta(hours=1)
    )
    TikTokVideo.objects.filter(pk=first.pk).update(
        attempts=1, next_attempt_at=now - datetime.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tiktok_previews_sweep(now=now) == 1

    assert TikTokVideo.objects.get(pk=first.pk).status == TikTokVideo.Status.READY
    assert TikTokVideo.objects.get(pk=second.pk).status == TikTokVideo.Status.PENDING


def test_the_same_video_twice_in_one_update_is_kept_once(
    milestone, creator_user, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video()
    update = _submit(
        milestone, creator_user, [link, link + "?x=1"], django_capture_on_commit_callbacks
    )
    assert update.tiktok_videos.count() == 1


# --- The pages -----------------------------------------------------------------------------


@pytest.fixture
def creator_client(client, creator_user):
    client.force_login(creator_user)
    return client


def test_the_portal_posts_links_and_shows_our_preview_card_without_tiktok_resources(
    creator_client, milestone, tiktok_standin, django_capture_on_commit_callbacks
):
    link = tiktok_standin.add_video(title="Three myths about fevers", author_name="Joel Bervell")
    url = milestone.get_portal_url()
    plain = creator_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        posted = creator_client.post(url, {"body": "Videos out.", "tiktok_links": link})
    assert posted.status_code == 302
    response = creator_client.get(url)
    assert response.status_code == 200
    video = TikTokVideo.objects.get()
    content = response.content.decode()
    assert "Three myths about fevers" in content
    assert "by Joel Bervell" in content
    thumbnail = reverse("programs:tiktok-thumbnail", kwargs={"pk": video.pk})
    assert f'src="{thumbnail}"' in content
    assert 'alt="Thumbnail of the TikTok video “Three myths about fevers”"' in content
    assert f'href="{link}"' in content
    # Nothing of TikTok's is loaded: no script, frame or image of theirs, TikTok's html unused.
    assert "embed.js" not in content
    assert "tiktok-embed" not in content
    assert not re.search(r'<(script|iframe|img)[^>]+(src|srcset)="https?://', content)
    assert response.headers["Content-Security-Policy"] == plain.headers["Content-Security-Policy"]
    assert "tiktok" not in response.headers["Content-Security-Policy"]

    image = creator_client.get(thumbnail)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert image["X-Content-Type-Options"] == "nosniff"
    Image.open(io.BytesIO(b"".join(image.streaming_content))).verify()


def test_a_pending_preview_shows_the_plain_link(creator_client, milestone, creator_user):
    progress_update_submit(
        milestone=milestone, author=creator_user, body="Out.", tiktok_links=[VIDEO]
    )  # not committed in this test: its job never ran
    content = creator_client.get(milestone.get_portal_url()).content.decode()
    assert f'<a href="{VIDEO}" rel="noopener noreferrer nofollow">{VIDEO}</a>' in content
    assert "preview on its way" in content


def test_bad_links_come_back_in_the_form_and_store_nothing(creator_client, milestone):
    response = creator_client.post(
        milestone.get_portal_url(),
        {"body": "Out.", "tiktok_links": "https://vm.tiktok.com/ZMx/"},
    )
    assert response.status_code == 422
    assert "is a short TikTok link" in response.content.decode()
    assert not TikTokVideo.objects.exists()
    assert not milestone.updates.exists()


def test_another_creators_thumbnail_is_a_404(
    client,
    other_creator_user,
    milestone,
    creator_user,
    tiktok_standin,
    django_capture_on_commit_callbacks,
):
    link = tiktok_standin.add_video()
    update = _submit(milestone, creator_user, [link], django_capture_on_commit_callbacks)
    url = reverse("programs:tiktok-thumbnail", kwargs={"pk": update.tiktok_videos.get().pk})
    client.force_login(other_creator_user)
    assert client.get(url).status_code == 404
    client.force_login(creator_user)
    assert client.get(url).status_code == 200
