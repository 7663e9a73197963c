"""A creator's consent to the public list: which profile fields the public may see, and
whether they agree to appear on a published list at all.

Only the creator answers for themself (the demo seeding, with no actor, apart): staff can see
who has not answered and remind them, never answer for them. Every answer is a new
`ProfileConsent` version and an audit event; the audit retires the cached public pages when
the answer commits, so a field hidden now is gone from every public page at once."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.roles import permission_require

from ..models import ChangeMakersList, Creator, ListEntry, ProfileConsent, PublicField

# A creator is reminded at most once in this time, however often staff press the button.
REMINDER_INTERVAL = datetime.timedelta(days=1)


def _answerer_check(*, creator: Creator, actor) -> None:
    # `actor is None` is the system (demo seeding); every view passes the signed-in user.
    if actor is not None and (not creator.user_id or actor.pk != creator.user_id):
        raise ValidationError(
            _("Only the creator can answer for their own profile."), code="not_permitted"
        )


def _consent_save(*, creator: Creator, actor, agreed: bool, fields: list[str]) -> Creator:
    with transaction.atomic():
        locked = Creator.objects.select_for_update().get(pk=creator.pk)
        to = Creator.Consent.AGREED if agreed else Creator.Consent.WITHDRAWN
        if locked.consent == to and locked.public_fields == fields:
            return locked  # the same answer again (a double click): nothing new to record
        version = (locked.consents.aggregate(last=Max("version"))["last"] or 0) + 1
        answer = ProfileConsent(
            creator=locked,
            version=version,
            agreed=agreed,
            public_fields=fields,
            recorded_by=actor,
        )
        answer.full_clean()
        answer.save()
        from_state = locked.consent
        locked.consent, locked.public_fields, locked.consent_at = to, fields, timezone.now()
        locked.full_clean(exclude=["user"])
        locked.save(update_fields=["consent", "public_fields", "consent_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="consented" if agreed else "consent_withdrawn",
            from_state=from_state,
            to_state=to,
            note=f"v{version}: {', '.join(fields) or '-'}",
        )
        return locked


def creator_consent_confirm(*, creator: Creator, actor, public_fields: Iterable[str]) -> Creator:
    """The creator agrees to appear on published lists showing, besides their name and
    @handle, exactly `public_fields`. Takes effect on every public page at once."""
    _answerer_check(creator=creator, actor=actor)
    chosen = set(public_fields)
    unknown = chosen - set(PublicField.values)
    if unknown:
        raise ValidationError(_("Unknown public field."), code="public_field_unknown")
    # In the vocabulary's order, so the same choice is always stored the same way.
    fields = [value for value in PublicField.values if value in chosen]
    return _consent_save(creator=creator, actor=actor, agreed=True, fields=fields)


def creator_consent_withdraw(*, creator: Creator, actor) -> Creator:
    """The creator no longer agrees: they leave every public list (entries stay for staff)
    and their profile shows their name and @handle only."""
    _answerer_check(creator=creator, actor=actor)
    return _consent_save(creator=creator, actor=actor, agreed=False, fields=[])


# --- Staff: who has not answered, and a reminder ------------------------------------------


@dataclass
class ReminderOutcome:
    sent: list[Creator] = field(default_factory=list)
    no_account: list[Creator] = field(default_factory=list)
    recently_reminded: list[Creator] = field(default_factory=list)


def list_awaiting_consent(change_makers_list: ChangeMakersList) -> list[ListEntry]:
    """The entries of an edition the public will not see until their creator confirms."""
    return list(
        ListEntry.objects.filter(change_makers_list=change_makers_list)
        .awaiting_consent()
        .select_related("creator")
        .order_by("position")
    )


def consent_reminders_send(*, change_makers_list: ChangeMakersList, actor) -> ReminderOutcome:
    """Email every creator of the edition who has not confirmed (or withdrew) a link to their
    consent page: once a day at most each; creators without a portal account cannot be."""
    permission_require(actor, "creators.change_changemakerslist", doing=_("remind creators"))
    outcome = ReminderOutcome()
    now = timezone.now()
    with transaction.atomic():
        creator_ids = [e.creator_id for e in list_awaiting_consent(change_makers_list)]
        creators = (
            Creator.objects.select_for_update()
            .filter(pk__in=creator_ids)
            .order_by("display_name", "pk")
        )
        for creator in creators:
            if creator.user_id is None:
                outcome.no_account.append(creator)
            elif creator.consent_reminded_at and now - creator.consent_reminded_at < (
                REMINDER_INTERVAL
            ):
                outcome.recently_reminded.append(creator)
            else:
                creator.consent_reminded_at = now
                creator.save(update_fields=["consent_reminded_at", "updated_at"])
                audit_record(
                    actor=actor, obj=creator, action="reminded", note=change_makers_list.title
                )
                enqueue_on_commit("creators.tasks.send_consent_reminder", creator.pk)
                outcome.sent.append(creator)
    return outcome


def consent_reminder_email(*, creator: Creator) -> bool:
    """Send the reminder (from the task), unless the creator has confirmed meanwhile."""
    if creator.consent == Creator.Consent.AGREED or creator.user is None:
        return False
    if not creator.user.email:
        return False
    email_send(
        to=[creator.user.email],
        template="creators/email/consent_reminder",
        language=creator.language,
        context={"creator": creator, "link": absolute_url(reverse("creators:consent-edit"))},
    )
    return True
