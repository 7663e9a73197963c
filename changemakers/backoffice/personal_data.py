"""Personal data on request: staff export everything the program holds about one person, or
erase them, each only once a second member of staff approves.

Each app gathers and erases its own part (`changemakers.core.personal_data`, declared in the
apps' `ready()`); this is the workflow around them: the request, the four eyes, the job that
builds the export's ZIP, the download, the erasure, and the audit of each step.
"""

import datetime
import io
import json
import uuid
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.personal_data import (
    Pseudonym,
    audit_redact,
    personal_data_collect,
    personal_data_erase,
    personal_data_refusals,
)
from changemakers.core.roles import permission_require
from creators.models import Creator
from donations.services.duties import same_person

from .models import PersonalDataRequest

PERMISSION = "backoffice.handle_personal_data"


def export_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.PERSONAL_DATA_EXPORT_DAYS)


def _doing() -> str:
    return _("handle personal data requests")


def _erasure_refusals(creator: Creator) -> list[str]:
    if creator.erased_at is not None:
        return [_("This person's data has already been erased.")]
    return personal_data_refusals(creator)


def data_request_create(*, creator: Creator, kind: str, reason: str, actor) -> PersonalDataRequest:
    """Ask for an export or an erasure of `creator`'s data; it waits for a second member of
    staff's approval. An erasure that could not be carried out now is refused at once."""
    permission_require(actor, PERMISSION, doing=_doing())
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = Creator.objects.select_for_update().get(pk=creator.pk)
        if kind == PersonalDataRequest.Kind.ERASURE:
            refusals = _erasure_refusals(locked)
            if refusals:
                raise ValidationError(refusals, code="erasure_refused")
        waiting = PersonalDataRequest.objects.filter(
            creator=locked, kind=kind, status=PersonalDataRequest.Status.PENDING
        )
        if waiting.exists():
            raise ValidationError(
                _("A request of this kind for this person is already awaiting approval."),
                code="request_pending",
            )
        request = PersonalDataRequest(kind=kind, creator=locked, reason=reason, requested_by=actor)
        request.full_clean()
        request.save()
        audit_record(
            actor=actor, obj=request, action="requested", to_state=request.status, note=reason
        )
    return request


def _locked_pending(request: PersonalDataRequest, actor) -> PersonalDataRequest | None:
    """The request locked; None when it is already past `pending` (a double click)."""
    locked = PersonalDataRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    if locked.status != PersonalDataRequest.Status.PENDING:
        return None
    if same_person(locked.requested_by_id, actor):
        raise ValidationError(
            _("You asked for this; someone else approves or rejects it."),
            code="approver_is_requester",
        )
    return locked


def data_request_approve(*, request: PersonalDataRequest, actor) -> PersonalDataRequest:
    """A second member of staff approves: an export is queued for building; an erasure is
    carried out now, in this transaction (the person's files are deleted once it commits)."""
    permission_require(actor, PERMISSION, doing=_doing())
    if not getattr(actor, "is_authenticated", False):
        raise ValidationError(_("Approve it as yourself."), code="approver_unknown")
    with transaction.atomic(durable=True):
        locked = _locked_pending(request, actor)
        if locked is None:
            return PersonalDataRequest.objects.get(pk=request.pk)
        now = timezone.now()
        locked.status = PersonalDataRequest.Status.APPROVED
        locked.reviewed_by = actor
        locked.reviewed_at = now
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        audit_record(
            actor=actor, obj=locked, action="approved", from_state="pending", to_state="approved"
        )
        if locked.kind == PersonalDataRequest.Kind.EXPORT:
            enqueue_on_commit("changemakers.backoffice.tasks.build_personal_data_export", locked.pk)
            return locked
        return _erase(locked, actor)


def _erase(locked: PersonalDataRequest, actor) -> PersonalDataRequest:
    creator = (
        Creator.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=locked.creator_id)
    )
    refusals = _erasure_refusals(creator)
    if refusals:
        # Something moved since the request (a grant proposed): nothing is erased.
        raise ValidationError(refusals, code="erasure_refused")
    pseudonym = Pseudonym.new()
    erasure = personal_data_erase(creator, pseudonym=pseudonym, actor=actor)
    # The request's own reason may name the person too.
    locked.reason = _("(erased with the person's data)")
    locked.status = PersonalDataRequest.Status.DONE
    locked.completed_at = timezone.now()
    locked.save(update_fields=["reason", "status", "completed_at", "updated_at"])
    audit_record(
        actor=actor,
        obj=locked,
        action="erased",
        from_state="approved",
        to_state="done",
        note=f"{pseudonym.name}; {erasure.redacted} audit events redacted"
        + "".join(f", {count} {name}" for name, count in erasure.elsewhere.items()),
    )
    # Last, so the events of every request about the person (this one's included) show the
    # pseudonym: the requests themselves stay, as the record of what was done.
    requests = list(PersonalDataRequest.objects.filter(creator=creator))
    audit_redact(rows=requests, names=erasure.names, replacement=pseudonym.name)
    PersonalDataRequest.objects.filter(creator=creator).exclude(pk=locked.pk).update(
        reason=_("(erased with the person's data)")
    )
    return locked


def data_request_reject(*, request: PersonalDataRequest, reason: str, actor) -> PersonalDataRequest:
    permission_require(actor, PERMISSION, doing=_doing())
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the request is rejected."), code="reason_required")
    with transaction.atomic():
        locked = _locked_pending(request, actor)
        if locked is None:
            return PersonalDataRequest.objects.get(pk=request.pk)
        locked.status = PersonalDataRequest.Status.REJECTED
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.rejection_reason = reason
        locked.save(
            update_fields=[
                "status",
                "reviewed_by",
                "reviewed_at",
                "rejection_reason",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action="rejected",
            from_state="pending",
            to_state="rejected",
            note=reason,
        )
    return locked


# --- The export ---------------------------------------------------------------------------------


def export_archive(creator: Creator) -> bytes:
    """The ZIP of everything the program holds about `creator`: one JSON file per area
    (`creators.json`, `programs.json`, `donations.json`, `audit.json`), their files under
    `files/`, and a README."""
    parts = personal_data_collect(creator)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            _(
                "Everything the Change Makers program holds about one person, exported on "
                "%(date)s. Each JSON file holds one part of the program; files/ holds their "
                "photo, the attachments of their progress updates and our copies of their "
                "TikTok videos' thumbnails."
            )
            % {"date": timezone.now().date().isoformat()},
        )
        for area, data in parts.items():
            archive.writestr(
                f"{area}.json",
                json.dumps(data.records, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            )
            for path, field_file in data.files:
                with field_file.storage.open(field_file.name, "rb") as stored:
                    archive.writestr(path, stored.read())
    return buffer.getvalue()


def data_export_build(*, request_id: int) -> PersonalDataRequest:
    """Build an approved export's ZIP (the job `build_personal_data_export`). Safe to run
    twice: a request whose archive is built, or that is not approved, is left as it is."""
    with transaction.atomic():
        locked = PersonalDataRequest.objects.select_for_update(of=("self",)).get(pk=request_id)
        if (
            locked.kind != PersonalDataRequest.Kind.EXPORT
            or locked.status != PersonalDataRequest.Status.APPROVED
        ):
            return locked
        creator = Creator.objects.select_related("user").get(pk=locked.creator_id)
        content = export_archive(creator)
        storage = locked.archive.storage
        name = storage.save(f"personal-data/{uuid.uuid4().hex}.zip", ContentFile(content))
        # Written before the row says so: should saving the row fail, the file goes.
        try:
            now = timezone.now()
            locked.archive = name
            locked.archive_expires_at = now + export_lifetime()
            locked.status = PersonalDataRequest.Status.DONE
            locked.completed_at = now
            locked.save(
                update_fields=[
                    "archive",
                    "archive_expires_at",
                    "status",
                    "completed_at",
                    "updated_at",
                ]
            )
            audit_record(
                actor=None,
                obj=locked,
                action="exported",
                from_state="approved",
                to_state="done",
                note=f"{len(content)} bytes",
            )
        except BaseException:
            storage.delete(name)
            raise
    return locked


def data_export_may_download(request: PersonalDataRequest, user) -> bool:
    return (
        request.kind == PersonalDataRequest.Kind.EXPORT
        and request.status == PersonalDataRequest.Status.DONE
        and bool(request.archive)
        and request.archive_expires_at is not None
        and request.archive_expires_at > timezone.now()
        and (
            same_person(request.requested_by_id, user) or same_person(request.reviewed_by_id, user)
        )
    )


def data_export_download(*, request: PersonalDataRequest, actor):
    """The export's file, opened, for the requester or the approver until it expires; each
    download audited."""
    permission_require(actor, PERMISSION, doing=_doing())
    if not data_export_may_download(request, actor):
        raise PermissionDenied
    with transaction.atomic():
        audit_record(actor=actor, obj=request, action="downloaded")
    return request.archive.open("rb")


def data_exports_expire(*, now: datetime.datetime, dry_run: bool = False) -> int:
    """Delete the ZIPs of exports past their lifetime (the request stays, as expired)."""
    expired = PersonalDataRequest.objects.filter(
        kind=PersonalDataRequest.Kind.EXPORT,
        status=PersonalDataRequest.Status.DONE,
        archive_expires_at__lte=now,
    )
    if dry_run:
        return expired.count()
    count = 0
    for request in expired:
        with transaction.atomic():
            locked = PersonalDataRequest.objects.select_for_update().get(pk=request.pk)
            if locked.status != PersonalDataRequest.Status.DONE:
                continue
            name, storage = locked.archive.name, locked.archive.storage
            locked.archive = ""
            locked.status = PersonalDataRequest.Status.EXPIRED
            locked.save(update_fields=["archive", "status", "updated_at"])
            audit_record(
                actor=None, obj=locked, action="expired", from_state="done", to_state="expired"
            )
            if name:
                transaction.on_commit(lambda n=name, s=storage: s.delete(n), robust=True)
            count += 1
    return count
