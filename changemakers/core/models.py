"""The kernel's rows: the timestamps every model carries, the single-use link every emailed
link is, and the append-only audit log every app records its state changes in.

Nothing here knows an app. Each app declares the verbs it records (`verbs.verbs_declare` in its
`AppConfig.ready`), so no app's migration exists for another app's vocabulary: the column holds
a verb, the registry gives its label.
"""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .verbs import verb_label
from .zones import validate_time_zone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class SingleUseLinkQuerySet(models.QuerySet):
    def usable(self, now) -> "SingleUseLinkQuerySet":
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class SingleUseLink(TimeStampedModel):
    """What an emailed single-use link stores: a random nonce (the link carries an HMAC of it
    under the site's key, `changemakers.core.links.link_token`), its expiry, and when it was
    used or revoked. Creator invitations and nonprofit sign-in links are both one."""

    nonce = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = SingleUseLinkQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_usable(self, now) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now

    @property
    def is_expired(self) -> bool:
        """Past its expiry (used or not): what a list of sent links shows."""
        return self.expires_at <= timezone.now()


class AuditEventQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> "AuditEventQuerySet":
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("occurred_at", "id")


class AuditEvent(models.Model):
    """One state change: who moved what from where to where, when and why. Append-only (on
    PostgreSQL a trigger refuses UPDATE and DELETE too)."""

    occurred_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system acted (a scheduled job, the seed command)."),
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField(_("object"), max_length=200)
    # A verb some app declared (changemakers.core.audit); deliberately without `choices`, so a
    # new verb needs no migration of the kernel.
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        # The table it has had since it lived in `creators`: rows and the append-only trigger
        # stay where they are (core/migrations/0001_initial.py moves the model, not the data).
        db_table = "creators_auditevent"
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "occurred_at"],
                name="creators_au_content_b1b280_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_repr}: {self.from_state or '-'} → {self.to_state or '-'}"

    def save(self, *args, **kwargs) -> None:
        # Money history is append-only: an event once written is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Audit events cannot be changed."), code="audit_immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit events cannot be deleted."), code="audit_immutable")

    def get_action_display(self) -> str:
        return verb_label(self.action)


def choice_display(field: str, choices: type[models.TextChoices]):
    """A `get_<field>_display` for a model's class body: the value's label in the reader's
    language. Django's own builds a dict of every choice on each call, translating each label
    (a list of 50 rows translated 500). A value not among the choices is shown as stored, as
    Django shows it. Assign it in the class body (`get_status_display = choice_display(
    "status", Status)`): Django adds its own only where the class defines none."""

    def display(self) -> str:
        value = getattr(self, field)
        try:
            return str(choices(value).label)
        except ValueError:
            return value

    display.__name__ = f"get_{field}_display"
    return display


def person_field(verbose_name, *, on_delete=models.PROTECT) -> models.ForeignKey:
    """Who took a step on a row (proposed, approved, verified, reviewed...): an optional link
    to a user account, with no reverse accessor on the user. Empty on rows from before the
    step was recorded, or for a step the system took alone."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=on_delete,
        null=True,
        blank=True,
        related_name="+",
    )


class Preferences(models.Model):
    """A person's own settings, one row per account, whatever their role: the time zone their
    pages and emails show times in, and (for staff, who have no profile saying one) the
    language of the program's emails. Made with a time zone guessed from the person's country
    when the account is first used (`changemakers.core.timezones.preferences_of`)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        on_delete=models.CASCADE,
        related_name="preferences",
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("Dates and times on your pages and in your emails are shown in this zone."),
    )
    language = models.CharField(
        _("email language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_(
            "The language of the program's emails to staff. Creators and nonprofit contacts "
            "choose theirs in their profile."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone}"


class OutboxEventQuerySet(models.QuerySet):
    def unhandled(self) -> "OutboxEventQuerySet":
        return self.filter(handled_at__isnull=True)


class OutboxEvent(models.Model):
    """Something partners may hear about (a grant paid, a list published), recorded by
    `changemakers.core.events.event_emit` inside the transaction of the change: a change
    rolled back leaves no event. `data` holds what the event's type declared public, as it
    was at that moment; `handled_at` says it was handed on (to the webhooks' fan-out)."""

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=64)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    data = models.JSONField(_("data"))
    handled_at = models.DateTimeField(_("handed on at"), null=True, blank=True)

    objects = OutboxEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The sweeper's question: which events were never handed on?
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(handled_at__isnull=True),
                name="core_outbox_unhandled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"
