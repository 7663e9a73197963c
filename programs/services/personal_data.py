"""The programs app's part of a person's data: their places in cohorts, milestones, progress
updates with their attachments and TikTok videos, the impact figures reported with them, and
their applications; and the retention of declined applications. Declared in
`ProgramsConfig.ready` (`changemakers.core.personal_data`)."""

import datetime
import posixpath

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from changemakers.core.personal_data import (
    PersonalData,
    Pseudonym,
    StoredFile,
    rows_delete_redacted,
)
from creators.models import Creator

from ..models import (
    Application,
    Enrolment,
    ImpactValue,
    Milestone,
    ProgressUpdate,
    TikTokVideo,
)

# What an erased free text reads (some columns may not be empty).
ERASED_TEXT = "[erased]"


def _applications(creator: Creator) -> QuerySet[Application]:
    query = Q(creator=creator)
    email = creator.user.email if creator.user_id else ""
    if email:
        query |= Q(email__iexact=email)
    return Application.objects.filter(query).select_related("cohort").order_by("created_at")


def programs_data_collect(creator: Creator) -> PersonalData:
    enrolments = list(
        Enrolment.objects.filter(creator=creator).select_related("cohort").order_by("created_at")
    )
    milestones = list(
        Milestone.objects.filter(enrolment__creator=creator)
        .select_related("enrolment__cohort")
        .order_by("due_date", "pk")
    )
    updates = list(
        ProgressUpdate.objects.filter(milestone__enrolment__creator=creator)
        .select_related("milestone")
        .order_by("created_at", "pk")
    )
    applications = list(_applications(creator))
    videos = list(
        TikTokVideo.objects.filter(update__milestone__enrolment__creator=creator).order_by(
            "update", "position", "pk"
        )
    )
    impact = list(
        ImpactValue.objects.filter(milestone__enrolment__creator=creator)
        .select_related("milestone__enrolment__cohort", "indicator", "update")
        .order_by("milestone__due_date", "milestone", "indicator__position", "indicator__name")
    )
    files = []
    videos_of: dict[int, list[dict]] = {}
    for video in videos:
        thumbnail = None
        if video.thumbnail:
            thumbnail = f"files/tiktok/{video.pk}{posixpath.splitext(video.thumbnail.name)[1]}"
            files.append((thumbnail, video.thumbnail))
        videos_of.setdefault(video.update_id, []).append(
            {
                "url": video.url,
                "status": video.status,
                "title": video.title,
                "author_name": video.author_name,
                "author_url": video.author_url,
                "thumbnail": thumbnail,
                "last_error": video.last_error,
                "fetched_at": video.fetched_at.isoformat() if video.fetched_at else None,
            }
        )
    update_records = []
    for update in updates:
        path = None
        if update.attachment:
            base = posixpath.basename(update.attachment.name)
            path = f"files/attachments/{update.pk}-{base}"
            files.append((path, update.attachment))
        update_records.append(
            {
                "milestone": update.milestone.title,
                "body": update.body,
                "link": update.link,
                "attachment": path,
                "tiktok_videos": videos_of.get(update.pk, []),
                "submitted_at": update.created_at.isoformat(),
            }
        )
    records = {
        "enrolments": [
            {
                "cohort": enrolment.cohort.name,
                "status": enrolment.status,
                "mission": enrolment.mission,
                "created_at": enrolment.created_at.isoformat(),
            }
            for enrolment in enrolments
        ],
        "milestones": [
            {
                "cohort": milestone.enrolment.cohort.name,
                "title": milestone.title,
                "due_date": milestone.due_date.isoformat(),
                "status": milestone.status,
                "feedback": milestone.feedback,
            }
            for milestone in milestones
        ],
        "updates": update_records,
        "impact": [
            {
                "cohort": value.milestone.enrolment.cohort.name,
                "milestone": value.milestone.title,
                "indicator": value.indicator.name,
                "unit": value.indicator.unit,
                "value": str(value.value),
                "counted": value.counted,
                "reported_at": value.update.created_at.isoformat(),
            }
            for value in impact
        ],
        "applications": [
            {
                "cohort": application.cohort.name if application.cohort else None,
                "display_name": application.display_name,
                "handle": application.handle,
                "email": application.email,
                "country": application.country.code,
                "causes": application.causes,
                "follower_count": application.follower_count,
                "channel_url": application.channel_url,
                "mission": application.mission,
                "status": application.status,
                "decision_message": application.decision_message,
                "submitted_at": application.created_at.isoformat(),
                "decided_at": application.decided_at.isoformat()
                if application.decided_at
                else None,
            }
            for application in applications
        ],
    }
    names = [
        text
        for application in applications
        for text in (application.display_name, application.handle, application.email)
    ]
    return PersonalData(
        records=records,
        files=files,
        rows=[*enrolments, *milestones, *updates, *videos, *impact, *applications],
        names=names,
        handles=[application.handle for application in applications],
    )


def programs_data_erase(creator: Creator, pseudonym: Pseudonym, actor) -> list[StoredFile]:
    """Empty what the creator wrote (missions, updates, links, attachments, TikTok videos) and
    what was written to them (feedback, decision messages); applications keep their status
    under the pseudonym. Impact figures stay as they are: numbers of the program's totals,
    tied to the milestone (kept, pseudonymous), naming nobody. Returns the attachments and
    the videos' thumbnails to delete after commit."""
    with transaction.atomic():
        updates = ProgressUpdate.objects.select_for_update().filter(
            milestone__enrolment__creator=creator
        )
        files: list[StoredFile] = [
            (update.attachment.storage, update.attachment.name)
            for update in updates
            if update.attachment
        ]
        updates.update(
            body=ERASED_TEXT,
            link="",
            attachment="",
            show_publicly=False,
            **{f"public_summary_{code}": "" for code, _name in settings.LANGUAGES},
        )
        videos = TikTokVideo.objects.select_for_update().filter(
            update__milestone__enrolment__creator=creator
        )
        files += [
            (video.thumbnail.storage, video.thumbnail.name) for video in videos if video.thumbnail
        ]
        videos.delete()
        Milestone.objects.filter(enrolment__creator=creator).exclude(feedback="").update(
            feedback=ERASED_TEXT
        )
        Enrolment.objects.filter(creator=creator).update(mission="")
        applications = _applications(creator)
        applications.exclude(decision_message="").update(decision_message=ERASED_TEXT)
        applications.update(
            display_name=pseudonym.name,
            handle=pseudonym.handle,
            email=pseudonym.email,
            channel_url="https://erased.invalid/",
            mission=ERASED_TEXT,
            follower_count=0,
        )
    return files


def applications_declined_purge(*, before: datetime.datetime, dry_run: bool = False) -> int:
    """Delete the applications declined before `before` (their audit events stay, without
    the applicant's names). Returns how many there were."""
    declined = Application.objects.filter(status=Application.Status.DECLINED).filter(
        Q(decided_at__lt=before) | Q(decided_at__isnull=True, created_at__lt=before)
    )
    if dry_run:
        return declined.count()
    return rows_delete_redacted(declined)
