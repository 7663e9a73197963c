"""Creators, the yearly Change Makers list, and the audit log shared by every app.

The audit log lives here because `creators` is the app every other one depends on
(creators <- programs <- donations): each app can record into it without a cycle.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.models import TimeStampedModel

from .roles import nonprofit_contact_of
from .uploads import RandomName

handle_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_.]{2,30}$",
    message=_("A handle is 2 to 30 letters, digits, dots or underscores, without the leading @."),
)


class Cause(models.TextChoices):
    """The program's small, fixed vocabulary of causes."""

    EDUCATION = "education", _("Education")
    ACTIVISM = "activism", _("Activism")
    ADVOCACY = "advocacy", _("Advocacy")
    ENVIRONMENT = "environment", _("Environment")
    HEALTH = "health", _("Health")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    EQUALITY = "equality", _("Equality and inclusion")
    DISABILITY = "disability", _("Disability")
    POVERTY = "poverty", _("Poverty relief")
    ARTS = "arts", _("Arts and culture")


def validate_causes(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Causes are a list of cause codes."), code="causes_type")
    unknown = sorted({c for c in value if c not in Cause.values}, key=str)
    if unknown:
        raise ValidationError(
            _("Unknown cause: %(causes)s."),
            code="causes_unknown",
            params={"causes": ", ".join(map(str, unknown))},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("A cause is listed twice."), code="causes_duplicate")


class CreatorQuerySet(models.QuerySet):
    def with_handle(self, handle: str) -> "CreatorQuerySet":
        return self.filter(handle__iexact=handle.lstrip("@"))

    def with_cause(self, cause: str) -> "CreatorQuerySet":
        # Causes are a JSON list of codes; the quoted code is unique text in it on any database.
        return self.filter(causes__icontains=f'"{cause}"')


class Creator(TimeStampedModel):
    display_name = models.CharField(_("display name"), max_length=120)
    handle = models.CharField(
        _("handle"),
        max_length=30,
        validators=[handle_validator],
        help_text=_("The creator's @handle, without the @."),
    )
    country = CountryField(_("country"))
    causes = models.JSONField(
        _("causes"),
        default=list,
        validators=[validate_causes],
        error_messages={"blank": _("Pick at least one cause.")},
        help_text=_("One or more causes."),
    )
    bio = models.TextField(_("bio"), blank=True)
    follower_count = models.PositiveBigIntegerField(_("followers"), default=0)
    photo = models.ImageField(
        _("photo"),
        upload_to=RandomName("creators/photos"),
        blank=True,
        help_text=_("A JPEG, PNG or WebP image of at most 2 MB."),
    )
    language = models.CharField(
        _("email language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("The language of the emails the program sends you."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="creator",
    )

    objects = CreatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("creator")
        verbose_name_plural = _("creators")
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("handle"),
                name="creator_handle_unique_ci",
                violation_error_message=_("Another creator already has this handle."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} (@{self.handle})"

    def clean(self) -> None:
        # A user has one role; a nonprofit contact's account linked to a creator would sign in
        # as the creator and lose the nonprofit's pages (NonprofitContact refuses the reverse).
        if self.user_id and nonprofit_contact_of(self.user) is not None:
            raise ValidationError(
                {
                    "user": _(
                        "This account belongs to a nonprofit contact; a creator needs an "
                        "account of its own."
                    )
                },
                code="account_has_role",
            )

    def get_absolute_url(self) -> str:
        return reverse("creators:creator-detail", kwargs={"handle": self.handle})

    @property
    def at_handle(self) -> str:
        return f"@{self.handle}"

    def get_causes_display(self) -> list[str]:
        labels = dict(Cause.choices)
        return [str(labels.get(c, c)) for c in self.causes]

    def get_photo_url(self) -> str:
        if not self.photo:
            return ""
        # The stored name is random and changes with the photo: a new photo, a new URL, so
        # browsers never show a cached old one.
        version = self.photo.name.rsplit("/", 1)[-1].split(".", 1)[0][:12]
        url = reverse("creators:creator-photo", kwargs={"handle": self.handle})
        return f"{url}?v={version}"


class CreatorLink(models.Model):
    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="links")
    label = models.CharField(_("label"), max_length=60)
    url = models.URLField(_("address"), max_length=500)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class SingleUseLinkQuerySet(models.QuerySet):
    def usable(self, now) -> "SingleUseLinkQuerySet":
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class SingleUseLink(TimeStampedModel):
    """What an emailed single-use link stores: a random nonce (the link carries an HMAC of it
    under the site's key, `creators.services.link_token`), its expiry, and when it was used or
    revoked. Creator invitations and nonprofit sign-in links are both one."""

    nonce = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = SingleUseLinkQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_usable(self, now) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class CreatorInvitation(SingleUseLink):
    """A single-use, expiring link that lets a creator set their password and sign in.

    The link carries an HMAC of the row's random nonce (see `creators.invitations`); only the
    nonce is stored, and it is useless without the site's secret key.
    """

    creator = models.ForeignKey(
        Creator, verbose_name=_("creator"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("personal note"), blank=True)

    class Meta:
        verbose_name = _("creator invitation")
        verbose_name_plural = _("creator invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.creator} <{self.email}>"


class ChangeMakersListQuerySet(models.QuerySet):
    def published(self) -> "ChangeMakersListQuerySet":
        return self.filter(status=ChangeMakersList.Status.PUBLISHED)


class ChangeMakersList(TimeStampedModel):
    """One edition of the yearly global Change Makers list."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    introduction = models.TextField(_("introduction"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = ChangeMakersListQuerySet.as_manager()

    class Meta:
        verbose_name = _("Change Makers list")
        verbose_name_plural = _("Change Makers lists")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100),
                name="list_year_plausible",
                violation_error_message=_("The year must be between 2000 and 2100."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="list_published_has_date",
                violation_error_message=_("A published list needs its publication date."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("creators:list-year", kwargs={"year": self.year})


class ListEntryQuerySet(models.QuerySet):
    def for_display(self) -> "ListEntryQuerySet":
        return self.select_related("creator").order_by("position")


class ListEntry(TimeStampedModel):
    """A creator on one year's list, with the country and cause they had that year."""

    change_makers_list = models.ForeignKey(
        ChangeMakersList,
        verbose_name=_("list"),
        on_delete=models.CASCADE,
        related_name="entries",
    )
    creator = models.ForeignKey(
        Creator, verbose_name=_("creator"), on_delete=models.PROTECT, related_name="list_entries"
    )
    country = CountryField(_("country"))
    cause = models.CharField(_("cause"), max_length=32, choices=Cause.choices)
    citation = models.CharField(_("citation"), max_length=280)
    position = models.PositiveSmallIntegerField(_("position"))

    objects = ListEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        ordering = ["change_makers_list", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["change_makers_list", "creator"],
                name="list_entry_creator_once",
                violation_error_message=_("This creator is already on this year's list."),
            ),
            models.UniqueConstraint(
                fields=["change_makers_list", "position"],
                name="list_entry_position_unique",
                violation_error_message=_("Another entry already holds this position."),
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1),
                name="list_entry_position_positive",
                violation_error_message=_("Positions start at 1."),
            ),
        ]
        indexes = [
            models.Index(fields=["change_makers_list", "country"]),
            models.Index(fields=["change_makers_list", "cause"]),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.creator}"


hashtag_validator = RegexValidator(
    regex=r"^#[A-Za-z0-9_]{1,59}$",
    message=_("A hashtag is # followed by up to 59 letters, digits or underscores."),
)


class ProgramHub(TimeStampedModel):
    """The text of the public program page (the "social impact hub"), edited by staff.

    One row: the page reads the row with id 1 and `program_hub_update` writes it; a check
    constraint keeps a second row out. Plain text, shown with paragraphs, never as HTML.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    title = models.CharField(_("title"), max_length=120)
    hashtag = models.CharField(_("hashtag"), max_length=60, validators=[hashtag_validator])
    introduction = models.CharField(
        _("introduction"), max_length=300, help_text=_("One or two sentences under the title.")
    )
    body = models.TextField(
        _("text"),
        max_length=5000,
        blank=True,
        help_text=_("Plain text; leave an empty line between paragraphs."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("program page")
        verbose_name_plural = _("program page")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="program_hub_single_row"),
        ]

    def __str__(self) -> str:
        return self.title


class AuditEventQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> "AuditEventQuerySet":
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("occurred_at", "id")


class AuditEvent(models.Model):
    """One state change: who moved what from where to where, when and why. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        PROPOSED = "proposed", _("Proposed")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        APPROVED = "approved", _("Approved")
        CANCELLED = "cancelled", _("Cancelled")
        STARTED = "started", _("Started")
        INVITED = "invited", _("Invited")
        ACTIVATED = "activated", _("Activated")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SUBMITTED = "submitted", _("Submitted")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        PUBLISHED = "published", _("Published")
        UNPUBLISHED = "unpublished", _("Unpublished")
        SCHEDULED = "scheduled", _("Scheduled for payment")
        PAYMENT_STARTED = "payment_started", _("Payment started")
        PAYMENT_ERROR = "payment_error", _("Payment attempt failed")
        DISBURSED = "disbursed", _("Paid")
        FAILED = "failed", _("Failed")
        RETRIED = "retried", _("Retried")
        RECONCILED = "reconciled", _("Reconciled with the provider")
        UPDATED = "updated", _("Updated")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        # Issue 5: nonprofit access, payout-detail reviews, list editions.
        LINK_SENT = "link_sent", _("Sign-in link sent")
        LINK_REVOKED = "link_revoked", _("Sign-in links revoked")
        RECEIPT_CONFIRMED = "receipt_confirmed", _("Receipt confirmed")
        CHANGE_REQUESTED = "change_requested", _("Change requested")
        IMPORTED = "imported", _("Imported")
        REMOVED = "removed", _("Removed")

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
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.object_repr}: {self.from_state or '-'} → {self.to_state or '-'}"

    def save(self, *args, **kwargs) -> None:
        # Money history is append-only: an event once written is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Audit events cannot be changed."), code="audit_immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit events cannot be deleted."), code="audit_immutable")
