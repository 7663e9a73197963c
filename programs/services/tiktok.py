"""TikTok videos on progress updates: attached with the update, their previews fetched by a
job after it commits (`programs.tasks.fetch_tiktok_preview`), tried again with a growing wait
when TikTok or the network fails, and swept up by beat if a retry was lost. Until a preview
is ready, pages show the plain link."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from changemakers.core import page_cache
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.uploads import image_check, image_without_metadata, rename_checked

from ..models import ProgressUpdate, TikTokVideo
from ..tiktok import THUMBNAIL_MAX_BYTES, Preview, PreviewError, preview_fetch, video_link_parse

logger = logging.getLogger(__name__)
BACKOFF_CAP = 6 * 3600
SWEEP_GRACE = datetime.timedelta(minutes=10)


def tiktok_videos_attach(*, update: ProgressUpdate, links: list[str]) -> list[TikTokVideo]:
    """The update's TikTok videos, each fetched by a job once the update commits. Call inside
    the update's transaction; links must already be checked (`video_link_parse`), the same
    video twice is kept once."""
    videos, seen = [], set()
    for position, link in enumerate(links):
        parsed = video_link_parse(link)
        if parsed.video_id in seen:
            continue
        seen.add(parsed.video_id)
        video = TikTokVideo(
            update=update, url=parsed.url, video_id=parsed.video_id, position=position
        )
        video.full_clean()
        video.save()
        enqueue_on_commit("programs.tasks.fetch_tiktok_preview", video.pk)
        videos.append(video)
    return videos


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: TIKTOK_RETRY_BACKOFF doubling
    each time, at most six hours."""
    return min(settings.TIKTOK_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def tiktok_preview_fetch(*, video_id: int) -> TikTokVideo | None:
    """Fetch one video's preview and store it; safe to run twice or at once on two workers
    (the second finds it ready, or stores the same thing). A transient failure counts an
    attempt and sets when to try next (`status` stays pending until TIKTOK_MAX_ATTEMPTS);
    TikTok refusing the video for good, or an answer that is no usable image, ends it as
    `unavailable`: the plain link stays. Returns the row as stored, None if it is gone."""
    video = TikTokVideo.objects.filter(pk=video_id).first()
    if video is None or video.status != TikTokVideo.Status.PENDING:
        return video
    # No lock is held while TikTok answers: the row is re-read and locked to store the outcome.
    try:
        preview = preview_fetch(video.url)
        thumbnail = _thumbnail_checked(preview)
    except PreviewError as error:
        return _failed(video_id, error)
    return tiktok_preview_store(video_id=video_id, preview=preview, thumbnail=thumbnail)


def _thumbnail_checked(preview: Preview):
    """Our own copy of the thumbnail: a JPEG, PNG or WebP within the size cap, written anew
    from its pixels (nothing else it carried is kept). None when there is no thumbnail."""
    if not preview.thumbnail:
        return None
    upload = SimpleUploadedFile("thumbnail", preview.thumbnail)
    try:
        checked = image_check(upload, max_bytes=THUMBNAIL_MAX_BYTES)
    except ValidationError:
        raise PreviewError(
            "the thumbnail is not a JPEG, PNG or WebP image", retryable=False
        ) from None
    return rename_checked(image_without_metadata(upload, checked), checked)


def tiktok_preview_store(*, video_id: int, preview: Preview, thumbnail=None) -> TikTokVideo | None:
    """Store a fetched preview (also the demo seeding's way to store a known one). Nothing is
    written if the video is ready already (a second run: its thumbnail, still in memory, is
    dropped). `thumbnail` must be a checked image (`_thumbnail_checked`)."""
    with transaction.atomic():
        video = TikTokVideo.objects.select_for_update().filter(pk=video_id).first()
        if video is None or video.status == TikTokVideo.Status.READY:
            return video
        video.status = TikTokVideo.Status.READY
        video.title = preview.title
        video.author_name = preview.author_name
        video.author_url = preview.author_url
        video.fetched_at = timezone.now()
        video.next_attempt_at = None
        video.last_error = ""
        if thumbnail is not None:
            video.thumbnail = thumbnail
        video.full_clean()
        try:
            video.save()
        except Exception:
            # The file is written as the row is saved: a row that fails must not leave it.
            if video.thumbnail and video.thumbnail.name:
                video.thumbnail.storage.delete(video.thumbnail.name)
            raise
        # A public highlight's card changes with its preview: the cached pages must see it.
        page_cache.data_changed()
        return video


def _failed(video_id: int, error: PreviewError) -> TikTokVideo | None:
    with transaction.atomic():
        video = TikTokVideo.objects.select_for_update().filter(pk=video_id).first()
        if video is None or video.status != TikTokVideo.Status.PENDING:
            return video
        video.attempts += 1
        video.last_error = str(error)[:300]
        if not error.retryable or video.attempts >= settings.TIKTOK_MAX_ATTEMPTS:
            video.status = TikTokVideo.Status.UNAVAILABLE
            video.next_attempt_at = None
        else:
            video.next_attempt_at = timezone.now() + datetime.timedelta(
                seconds=retry_delay(video.attempts)
            )
        video.save(
            update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"]
        )
        logger.info("TikTok preview %s: %s (attempt %s)", video_id, error, video.attempts)
        return video


def tiktok_previews_sweep(*, now: datetime.datetime | None = None) -> int:
    """Queue a fetch for every pending preview whose next try has been due for a while (the
    grace leaves the retry the task queued itself to run first); returns how many."""
    before = (now or timezone.now()) - SWEEP_GRACE
    ids = list(TikTokVideo.objects.due(before).order_by("pk").values_list("pk", flat=True)[:500])
    for video_id in ids:
        enqueue_on_commit("programs.tasks.fetch_tiktok_preview", video_id)
    return len(ids)
