"""Opportunities staff publish for creators, nonprofits or both (a training, an event, a
collaboration, a mentoring session), and the sign-ups of the people who take a place.

Title and description are staff-written in every language of the site (django-modeltranslation,
`programs/translation.py`): `title` reads the active language's text, else the English."""

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel

OPPORTUNITY_MAX_CAPACITY = 1000


class OpportunityQuerySet(models.QuerySet):
    def published(self) -> "OpportunityQuerySet":
        return self.filter(status=Opportunity.Status.PUBLISHED)

    def for_audience(self, audience: str) -> "OpportunityQuerySet":
        """Meant for `audience` (creators or nonprofits): theirs, and those for both."""
        return self.filter(audience__in=[audience, Opportunity.Audience.BOTH])

    def with_taken(self) -> "OpportunityQuerySet":
        """Each with `taken`: the places its current sign-ups hold."""
        return self.annotate(
            taken=Count("signups", filter=Q(signups__status=OpportunitySignup.Status.SIGNED_UP))
        )


class Opportunity(TimeStampedModel):
    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        EVENT = "event", _("Event")
        COLLABORATION = "collaboration", _("Collaboration between a creator and a nonprofit")
        MENTORING = "mentoring", _("Mentoring session")

    class Audience(models.TextChoices):
        CREATORS = "creators", _("Creators")
        NONPROFITS = "nonprofits", _("Nonprofits")
        BOTH = "both", _("Creators and nonprofits")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    audience = models.CharField(_("for"), max_length=16, choices=Audience.choices)
    starts_at = models.DateTimeField(_("date and time"))
    place = models.CharField(
        _("place"), max_length=200, blank=True, help_text=_("An address, or a room.")
    )
    link = models.URLField(
        _("link"), max_length=500, blank=True, help_text=_("Where to join online.")
    )
    capacity = models.PositiveSmallIntegerField(_("places"))
    signups_close_on = models.DateField(
        _("sign-ups close on"),
        help_text=_("The last day people may sign up (a program day)."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    cancel_reason = models.CharField(_("why it is cancelled"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["starts_at", "pk"]
        permissions = [("manage_opportunity", _("Can publish, change and cancel opportunities"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(place="") | ~Q(link=""),
                name="opportunity_has_place_or_link",
                violation_error_message=_("Give a place, a link, or both."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=OPPORTUNITY_MAX_CAPACITY),
                name="opportunity_capacity_range",
                violation_error_message=_("An opportunity has between 1 and 1,000 places."),
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int | None:
        """The places not taken, on a row read `with_taken()` (None on any other)."""
        taken = getattr(self, "taken", None)
        return None if taken is None else max(self.capacity - taken, 0)

    def get_staff_url(self) -> str:
        return reverse("programs:opportunity-detail", args=[self.pk])


class OpportunitySignupQuerySet(models.QuerySet):
    def current(self) -> "OpportunitySignupQuerySet":
        """Sign-ups that hold a place (not withdrawn)."""
        return self.filter(status=OpportunitySignup.Status.SIGNED_UP)

    def of(self, user) -> "OpportunitySignupQuerySet":
        return self.filter(user=user)


class OpportunitySignup(TimeStampedModel):
    """One person's place in an opportunity. One row per person and opportunity: withdrawing
    marks it withdrawn (the place is free again), signing up again takes it back."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Role(models.TextChoices):
        CREATOR = "creator", _("Creator")
        NONPROFIT = "nonprofit", _("Nonprofit")

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.PROTECT,
        related_name="signups",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="opportunity_signups",
    )
    role = models.CharField(_("as"), max_length=16, choices=Role.choices)
    name = models.CharField(_("name"), max_length=160)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SIGNED_UP
    )
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    cancellation_sent_at = models.DateTimeField(
        _("cancellation notice sent at"), null=True, blank=True
    )

    objects = OpportunitySignupQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity sign-up")
        verbose_name_plural = _("opportunity sign-ups")
        ordering = ["opportunity", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "user"],
                name="opportunity_signup_once_per_person",
                violation_error_message=_("This person has already signed up."),
            ),
        ]
        indexes = [models.Index(fields=["status", "reminder_sent_at"])]

    def __str__(self) -> str:
        return f"{self.name}: {self.opportunity}"
