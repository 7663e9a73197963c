"""A person's data across the apps: gathered for an export, erased on request, and the
audit log's part of both.

The kernel knows no app. Each app that holds something about a person declares its part in
its `AppConfig.ready()` (`personal_data_declare`), in the order `INSTALLED_APPS` loads them:
how to gather what it holds (`collect`), how to erase it (`erase`), and what stops an erasure
(`refusal`: money still on its way). The person (`subject`) is the row the lowest app keeps of
them (a creator), handed to every part as it is.

Erasure keeps history, not the person: rows stay, their names, contact details and texts are
replaced by a pseudonym, files are deleted once the change commits, and the audit log keeps
every event (who, when, from, to) with the person's names in its text replaced
(`audit_redact`: the only rewrite the append-only log allows, see core migration 0002). The
events recorded for partners about the person's rows (`OutboxEvent.data`) lose their names
the same way (`outbox_redact`), and so does every copy of them a higher layer keeps (declared
with `personal_data_redactor_declare`: the webhooks' delivery bodies). What already left the
program (a webhook delivered) cannot be recalled.
"""

import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from .models import AuditEvent, OutboxEvent, Preferences


@dataclass(frozen=True)
class Pseudonym:
    """What an erased person is called from then on: one random token, in each form a field
    needs (a name, a handle, an address that can never receive mail)."""

    token: str

    @classmethod
    def new(cls) -> "Pseudonym":
        return cls(secrets.token_hex(4))

    @property
    def name(self) -> str:
        return f"Erased person {self.token}"

    @property
    def handle(self) -> str:
        return f"erased_{self.token}"

    @property
    def email(self) -> str:
        return f"erased-{self.token}@erased.invalid"


@dataclass
class PersonalData:
    """What one app holds about a person.

    `records`: JSON-ready data, by name (each becomes `<area>.json` in an export);
    `files`: (path in the archive, file field) of the person's files;
    `rows`: the rows about the person, whose audit events are theirs;
    `names`: the strings that name or reach the person (names, handles, addresses), which
    erasure replaces in the audit log's text; `handles`: those of `names` that are handles
    (replaced by the pseudonym's handle in the events' data); `users`: the person's
    accounts."""

    records: dict = field(default_factory=dict)
    files: list[tuple[str, models.fields.files.FieldFile]] = field(default_factory=list)
    rows: list[models.Model] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    users: list = field(default_factory=list)
    handles: list[str] = field(default_factory=list)


# (storage, name) of a file to delete once the erasure commits.
StoredFile = tuple[object, str]


@dataclass(frozen=True)
class PersonalDataPart:
    area: str
    collect: Callable[[object], PersonalData]
    # (subject, pseudonym, actor) -> the files to delete after commit.
    erase: Callable[[object, Pseudonym, object], list[StoredFile]]
    # subject -> why it cannot be erased now, or "".
    refusal: Callable[[object], str] | None = None


_PARTS: dict[str, PersonalDataPart] = {}


@dataclass(frozen=True)
class Redaction:
    """What an erasure takes out of the copies of the person's data kept above the apps: the
    rows that were theirs (as they were before), their names and handles, their pseudonym."""

    rows: Sequence[models.Model]
    names: Sequence[str]
    handles: Sequence[str]
    pseudonym: "Pseudonym"

    def data(self, value):
        """`value` (JSON-ready: dicts, lists, strings...) with the person's names replaced in
        every string: a handle by the pseudonym's handle, anything else by its name. A name
        is replaced only as a whole word, so "Ana" leaves "Banana" alone."""
        return _json_redact(value, *self._pattern())

    def _pattern(self) -> tuple[re.Pattern | None, Callable[[re.Match], str]]:
        handles = {handle.lower().lstrip("@") for handle in self.handles if handle}
        wanted = sorted({name.strip() for name in self.names if name and len(name.strip()) >= 2})
        if not wanted:
            return None, lambda match: match.group(0)
        alternatives = "|".join(re.escape(name) for name in sorted(wanted, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

        def replace(match: re.Match) -> str:
            text = match.group(0)
            if text.lower().lstrip("@") in handles:
                return ("@" if text.startswith("@") else "") + self.pseudonym.handle
            return self.pseudonym.name

        return pattern, replace


def _json_redact(value, pattern: re.Pattern | None, replace: Callable[[re.Match], str]):
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(replace, value)
    if isinstance(value, dict):
        return {key: _json_redact(item, pattern, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_redact(item, pattern, replace) for item in value]
    return value


# name -> redaction -> how many rows it changed.
_REDACTORS: dict[str, Callable[[Redaction], int]] = {}


def personal_data_redactor_declare(name: str, redactor: Callable[[Redaction], int]) -> None:
    """Declare what a layer above the apps keeps of the person's rows (copies of the events'
    data): `redactor(redaction)` rewrites it inside the erasure's transaction, after the
    outbox, and returns how many rows changed. Declaring a name again replaces it."""
    _REDACTORS[name] = redactor


def personal_data_declare(
    area: str,
    *,
    collect: Callable[[object], PersonalData],
    erase: Callable[[object, Pseudonym, object], list[StoredFile]],
    refusal: Callable[[object], str] | None = None,
) -> None:
    """Declare an app's part of a person's data (once per area; declaring again replaces)."""
    _PARTS[area] = PersonalDataPart(area=area, collect=collect, erase=erase, refusal=refusal)


def personal_data_parts() -> list[PersonalDataPart]:
    return list(_PARTS.values())


def personal_data_collect(subject) -> dict[str, PersonalData]:
    """Every app's part of `subject`'s data, by area, and the audit log's (`audit`): the
    events about their rows and those they took part in."""
    parts = {part.area: part.collect(subject) for part in personal_data_parts()}
    rows = [row for data in parts.values() for row in data.rows]
    users = [user for data in parts.values() for user in data.users]
    events = audit_events_of(rows=rows, users=users)
    their_ids = {user.pk for user in users if user is not None}
    parts["audit"] = PersonalData(
        records={"events": [_event_record(event, their_ids) for event in events]},
    )
    return parts


def personal_data_refusals(subject) -> list[str]:
    """Why `subject` cannot be erased now (empty: nothing stops it)."""
    return [
        reason
        for part in personal_data_parts()
        if part.refusal is not None and (reason := part.refusal(subject))
    ]


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: how many audit events lost the person's names, and those names
    (for the caller's own rows about the person, `audit_redact`); how many outbox events and
    rows of each declared redactor lost them (`elsewhere`, by name)."""

    names: list[str]
    redacted: int
    elsewhere: dict[str, int] = field(default_factory=dict)


def personal_data_erase(subject, *, pseudonym: Pseudonym, actor) -> Erasure:
    """Erase `subject` in every app (the last declared first), inside the caller's
    transaction; their files are deleted once it commits."""
    before = {part.area: part.collect(subject) for part in personal_data_parts()}
    files: list[StoredFile] = []
    # The higher apps first, as a cascade goes: each sees the rows below it as they were.
    for part in reversed(personal_data_parts()):
        files.extend(part.erase(subject, pseudonym, actor))
    rows = [row for data in before.values() for row in data.rows]
    users = [user for data in before.values() for user in data.users]
    names = [name for data in before.values() for name in data.names]
    handles = [handle for data in before.values() for handle in data.handles]
    redacted = audit_redact(rows=rows, users=users, names=names, replacement=pseudonym.name)
    redaction = Redaction(rows=rows, names=names, handles=handles, pseudonym=pseudonym)
    elsewhere = {"events": outbox_redact(redaction)}
    for name, redactor in _REDACTORS.items():
        elsewhere[name] = redactor(redaction)

    def delete_files() -> None:
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(delete_files, robust=True)
    return Erasure(names=names, redacted=redacted, elsewhere=elsewhere)


# --- The outbox's part --------------------------------------------------------------------


def outbox_events_of(rows: Iterable[models.Model]) -> models.QuerySet[OutboxEvent]:
    """The events recorded for partners about `rows`."""
    query = models.Q(pk__in=[])
    for content_type_id, ids in _ids_by_type(rows).items():
        query |= models.Q(content_type_id=content_type_id, object_id__in=ids)
    return OutboxEvent.objects.filter(query)


def outbox_redact(redaction: Redaction) -> int:
    """Take the person's names out of the data of the events about their rows (a milestone's
    or a grant's creator: handle and name). Their type, time and everything else stay; an
    event not handed on yet goes out with the pseudonym. Returns how many changed."""
    changed = 0
    for event in outbox_events_of(redaction.rows).select_for_update().only("pk", "data"):
        data = redaction.data(event.data)
        if data != event.data:
            OutboxEvent.objects.filter(pk=event.pk).update(data=data)
            changed += 1
    return changed


# --- The audit log's part -----------------------------------------------------------------


def _ids_by_type(rows: Iterable[models.Model]) -> dict[int, set[int]]:
    by_type: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.pk is not None:
            by_type[ContentType.objects.get_for_model(row).pk].add(row.pk)
    return by_type


def _events_query(*, rows: Iterable[models.Model], users: Iterable) -> models.Q:
    query = models.Q(pk__in=[])
    for content_type_id, ids in _ids_by_type(rows).items():
        query |= models.Q(content_type_id=content_type_id, object_id__in=ids)
    users = [user for user in users if user is not None]
    if users:
        user_ids = [user.pk for user in users]
        query |= models.Q(actor_id__in=user_ids)
        query |= models.Q(
            content_type=ContentType.objects.get_for_model(type(users[0])), object_id__in=user_ids
        )
    return query


def audit_events_of(*, rows: Sequence[models.Model], users: Sequence) -> list[AuditEvent]:
    """The events about `rows` (and the accounts `users`) and those `users` took, oldest
    first."""
    users = [user for user in users if user is not None]
    return list(
        AuditEvent.objects.filter(_events_query(rows=rows, users=users))
        .select_related("content_type")
        .order_by("occurred_at", "id")
    )


def _event_record(event: AuditEvent, their_ids: set[int]) -> dict:
    return {
        "when": event.occurred_at.isoformat(),
        "object": f"{event.content_type.app_label}.{event.content_type.model}#{event.object_id}",
        "object_repr": event.object_repr,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "note": event.note,
        # Who acted is said only when it was the person: staff's names are not theirs.
        "by_them": event.actor_id in their_ids,
    }


def _replace_names(text: str, pattern: re.Pattern | None, replacement: str) -> str:
    return pattern.sub(replacement, text) if pattern is not None and text else text


def _names_pattern(names: Iterable[str]) -> re.Pattern | None:
    # Longest first, so "@name" goes before "name" and a full name before its first word.
    wanted = sorted({name.strip() for name in names if name and len(name.strip()) >= 2}, key=len)
    if not wanted:
        return None
    return re.compile("|".join(re.escape(name) for name in reversed(wanted)), re.IGNORECASE)


def audit_redact(
    *,
    rows: Sequence[models.Model],
    users: Sequence = (),
    names: Iterable[str] = (),
    replacement: str,
) -> int:
    """Take a person's `names` out of the audit log's text: the events about `rows` (their
    object shown as the row shows itself now, or by its kind and id once deleted) and those
    `users` are the subject or actor of. Who, when, what and the states are kept as they
    are. Call inside the transaction that erased or deleted the rows. Returns how many
    events changed."""
    users = [user for user in users if user is not None]
    pattern = _names_pattern(names)
    current: dict[tuple[int, int], str] = {}
    for row in rows:
        if row.pk is None:
            continue
        model = type(row)
        fresh = model._base_manager.filter(pk=row.pk).first()
        label = str(fresh) if fresh is not None else f"{model._meta.verbose_name} #{row.pk}"
        current[(ContentType.objects.get_for_model(model).pk, row.pk)] = label[:200]
    changed = []
    events = AuditEvent.objects.filter(_events_query(rows=rows, users=users))
    for event in events.only("pk", "content_type_id", "object_id", "object_repr", "note"):
        object_repr = current.get((event.content_type_id, event.object_id))
        object_repr = _replace_names(object_repr or event.object_repr, pattern, replacement)
        note = _replace_names(event.note, pattern, replacement)
        if (object_repr, note) != (event.object_repr, event.note):
            changed.append((event.pk, object_repr[:200], note))
    if changed:
        with _redaction_allowed():
            for pk, object_repr, note in changed:
                # A queryset update: the model's save() refuses every rewrite by design.
                AuditEvent.objects.filter(pk=pk).update(object_repr=object_repr, note=note)
    return len(changed)


class _redaction_allowed:
    """On PostgreSQL the append-only trigger lets an UPDATE through only while this
    transaction says so, and only if it changes nothing but the object's text and the note."""

    def __enter__(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('changemakers.audit_redaction', 'on', true)")

    def __exit__(self, *exc) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('changemakers.audit_redaction', 'off', true)")


# --- Retention ------------------------------------------------------------------------------


def single_use_links_expired(now) -> list[models.QuerySet]:
    """The expired rows of every kind of single-use link the apps keep (the models built on
    `SingleUseLink`), one queryset per kind."""
    from django.apps import apps

    from .models import SingleUseLink

    return [
        model._default_manager.filter(expires_at__lt=now)
        for model in apps.get_models()
        if issubclass(model, SingleUseLink)
    ]


def rows_delete_redacted(queryset: models.QuerySet) -> int:
    """Delete the rows of `queryset`, with their names taken out of the audit log's text
    first (their events stay, showing each as its kind and id). Returns how many rows went."""
    rows = list(queryset)
    if not rows:
        return 0
    names = [str(row) for row in rows]
    model = type(rows[0])
    with transaction.atomic():
        queryset.model._default_manager.filter(pk__in=[row.pk for row in rows]).delete()
        audit_redact(rows=rows, names=names, replacement=f"{model._meta.verbose_name} (deleted)")
    return len(rows)


# --- User accounts ------------------------------------------------------------------------------


def account_record(user) -> dict:
    """What an export shows of a person's account, and their preferences."""
    preferences = Preferences.objects.filter(user=user).first()
    return {
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "is_active": user.is_active,
        "preferences": {
            "time_zone": preferences.time_zone,
            "language": preferences.language,
            "updated_at": preferences.updated_at.isoformat(),
        }
        if preferences is not None
        else None,
    }


def account_names(user) -> list[str]:
    return [user.get_username(), user.email, user.get_full_name()]


def account_erase(user, *, pseudonym: Pseudonym) -> None:
    """Make `user` an account nobody can sign in to that names nobody: pseudonymous name, no
    address, no password, inactive (its open sessions end with it), no second factors, no
    preferences (a time zone and a language they chose)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    locked = type(user)._default_manager.select_for_update().get(pk=user.pk)
    locked.username = f"erased-{pseudonym.token}"
    locked.email = ""
    locked.first_name = ""
    locked.last_name = ""
    locked.is_active = False
    locked.set_unusable_password()
    locked.save()
    for model in (TOTPDevice, WebAuthnCredential, StaticDevice, Preferences):
        model.objects.filter(user=locked).delete()
