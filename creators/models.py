"""Creators, their portal invitations, and the yearly Change Makers list."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.models import SingleUseLink, TimeStampedModel, person_field
from changemakers.core.roles import Role, linked, linked_roles
from changemakers.core.search import matching
from changemakers.core.uploads import RandomName

handle_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_.]{2,30}$",
    message=_("A handle is 2 to 30 letters, digits, dots or underscores, such as @joelbervell."),
)


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `CreatorsConfig.ready`)."""

    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    IMPORTED = "imported", _("Imported")
    PUBLISHED = "published", _("Published")
    UNPUBLISHED = "unpublished", _("Unpublished")
    REMOVED = "removed", _("Removed")
    CONSENTED = "consented", _("Consented")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    REMINDED = "reminded", _("Reminded")
    ERASED = "erased", _("Erased")


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


class PublicField(models.TextChoices):
    """What a creator may choose to show the public. Their name and @handle are always public:
    the list they appear on is."""

    PHOTO = "photo", _("Photo")
    BIO = "bio", _("Bio")
    COUNTRY = "country", _("Country")
    CAUSES = "causes", _("Causes")
    LINKS = "links", _("Links")
    FOLLOWERS = "followers", _("Follower count")
    # The impact story, composed above the apps (changemakers/backoffice/stories.py). Added
    # after consent was first asked: a creator who answered before has not ticked them, so
    # they stay hidden until the creator does.
    COHORT = "cohort", _("Cohort and mission")
    DONATION = "donation", _("Nonprofit supported in my name")
    HIGHLIGHTS = "highlights", _("Highlights of my work")


def validate_public_fields(value) -> None:
    if not isinstance(value, list) or any(field not in PublicField.values for field in value):
        raise ValidationError(_("Unknown public field."), code="public_field_unknown")
    if len(set(value)) != len(value):
        raise ValidationError(_("A public field is listed twice."), code="public_field_duplicate")


def shows_q(field: str, *, prefix: str = "") -> Q:
    """Rows whose creator (through `prefix`, e.g. "creator__") shows `field` to the public.
    The public fields are a JSON list of codes; the quoted code is unique text in it."""
    return Q(
        **{
            f"{prefix}consent": "agreed",
            f"{prefix}public_fields__icontains": f'"{field}"',
        }
    )


class CreatorQuerySet(models.QuerySet):
    def public(self) -> "CreatorQuerySet":
        """Creators the public pages may show: not those erased on request."""
        return self.filter(erased_at__isnull=True)

    def with_handle(self, handle: str) -> "CreatorQuerySet":
        return self.filter(handle__iexact=handle.lstrip("@"))

    def matching(self, text: str) -> "CreatorQuerySet":
        """Creators whose name or handle contains `text` (folded, see
        changemakers.core.search.search_text), those starting with it first."""
        return matching(self, text, "display_name", "handle", order=("display_name", "handle"))

    def with_cause(self, cause: str) -> "CreatorQuerySet":
        # Causes are a JSON list of codes; the quoted code is unique text in it on any database.
        return self.filter(causes__icontains=f'"{cause}"')


class Creator(TimeStampedModel):
    display_name = models.CharField(_("display name"), max_length=120)
    handle = models.CharField(
        _("handle"),
        max_length=30,
        validators=[handle_validator],
        help_text=_("Their TikTok handle, such as @joelbervell."),
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
    # Set when the person's data was erased on request (backoffice personal data requests):
    # the row stays, under a pseudonym, for the grants given in their name.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    class Consent(models.TextChoices):
        UNANSWERED = "unanswered", _("Not confirmed")
        AGREED = "agreed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # The creator's current answer; every answer is kept in ProfileConsent. Only the creator
    # gives it (creators.services.consent), so only they can make a field public.
    consent = models.CharField(
        _("consent to the public list"),
        max_length=16,
        choices=Consent.choices,
        default=Consent.UNANSWERED,
    )
    public_fields = models.JSONField(
        _("public fields"), default=list, blank=True, validators=[validate_public_fields]
    )
    consent_at = models.DateTimeField(_("consent answered at"), null=True, blank=True)
    consent_reminded_at = models.DateTimeField(_("consent reminder sent at"), null=True, blank=True)

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
        if self.user_id and set(linked_roles(self.user)) - {Role.CREATOR}:
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

    # --- What the public may see: name and @handle always, the rest only if the creator has
    # agreed to show it. Public pages read these, never the raw fields.

    def shows(self, field: str) -> bool:
        return self.consent == self.Consent.AGREED and field in self.public_fields

    @property
    def public_photo_url(self) -> str:
        return self.get_photo_url() if self.shows(PublicField.PHOTO) else ""

    @property
    def public_bio(self) -> str:
        return self.bio if self.shows(PublicField.BIO) else ""

    @property
    def public_country(self):
        return self.country if self.shows(PublicField.COUNTRY) and self.country else None

    @property
    def public_causes_display(self) -> list[str]:
        return self.get_causes_display() if self.shows(PublicField.CAUSES) else []

    @property
    def public_follower_count(self) -> int | None:
        return self.follower_count if self.shows(PublicField.FOLLOWERS) else None

    @property
    def public_links(self) -> list:
        return list(self.links.all()) if self.shows(PublicField.LINKS) else []

    def get_photo_url(self) -> str:
        if not self.photo:
            return ""
        # The stored name is random and changes with the photo: a new photo, a new URL, so
        # browsers never show a cached old one.
        version = self.photo.name.rsplit("/", 1)[-1].split(".", 1)[0][:12]
        url = reverse("creators:creator-photo", kwargs={"handle": self.handle})
        return f"{url}?v={version}"


def creator_of(user) -> Creator | None:
    """The Creator this user is, or None."""
    return linked(user, "creator")


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


class ProfileConsent(models.Model):
    """One answer of a creator about the public list, kept for good: which fields they agreed
    to show, whether they agree to appear at all, when, and who recorded it. The creator's
    current answer is the newest (copied onto Creator for the public pages' queries)."""

    creator = models.ForeignKey(
        Creator, verbose_name=_("creator"), on_delete=models.CASCADE, related_name="consents"
    )
    version = models.PositiveIntegerField(_("version"))
    agreed = models.BooleanField(_("agrees to appear on published lists"))
    public_fields = models.JSONField(
        _("public fields"), default=list, blank=True, validators=[validate_public_fields]
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = person_field(_("recorded by"), on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("profile consent")
        verbose_name_plural = _("profile consents")
        ordering = ["creator", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["creator", "version"], name="profile_consent_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.creator} v{self.version}"

    def get_public_fields_display(self) -> list[str]:
        labels = dict(PublicField.choices)
        return [str(labels.get(f, f)) for f in self.public_fields]


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


ENTRY_CONSENTED = Q(creator__consent=Creator.Consent.AGREED) | Q(
    shown_before_consent=True, creator__consent=Creator.Consent.UNANSWERED
)


class ListEntryQuerySet(models.QuerySet):
    def for_display(self) -> "ListEntryQuerySet":
        return self.select_related("creator").order_by("position")

    def consented(self) -> "ListEntryQuerySet":
        """Entries the public may see once their list is published: the creator confirmed,
        or the entry was public before consent was asked and the creator has not answered
        since (shown with their name and @handle only)."""
        return self.filter(ENTRY_CONSENTED)

    def awaiting_consent(self) -> "ListEntryQuerySet":
        return self.exclude(ENTRY_CONSENTED)

    def public(self) -> "ListEntryQuerySet":
        return self.filter(change_makers_list__status=ChangeMakersList.Status.PUBLISHED).consented()


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
    # True only for entries already public when creators were first asked for consent: they
    # stay public with the name and @handle alone until the creator answers.
    shown_before_consent = models.BooleanField(_("public before consent was asked"), default=False)

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

    @property
    def public_country(self):
        return self.country if self.creator.shows(PublicField.COUNTRY) else None

    @property
    def public_cause_display(self) -> str:
        return self.get_cause_display() if self.creator.shows(PublicField.CAUSES) else ""
