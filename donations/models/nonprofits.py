"""Nonprofits, the contacts who sign in for them with single-use links, and the payout-detail
changes contacts ask for."""

import datetime
import hashlib
import json

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.models import AuditEvent, SingleUseLink, TimeStampedModel, person_field
from changemakers.core.roles import linked
from changemakers.core.verbs import KernelVerb
from creators.models import creator_of


class NonprofitQuerySet(models.QuerySet):
    def verified(self) -> "NonprofitQuerySet":
        return self.filter(verification_status=Nonprofit.Verification.VERIFIED)


class Nonprofit(TimeStampedModel):
    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    class Reach(models.TextChoices):
        GLOBAL = "global", _("Global")
        LOCAL = "local", _("Local")

    legal_name = models.CharField(_("legal name"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=64)
    country = CountryField(_("country of registration"))
    reach = models.CharField(_("reach"), max_length=8, choices=Reach.choices, default=Reach.LOCAL)
    website = models.URLField(_("website"), max_length=300, blank=True)
    contact_email = models.EmailField(_("contact email"))
    verification_status = models.CharField(
        _("verification"),
        max_length=16,
        choices=Verification.choices,
        default=Verification.PENDING,
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    # Who added it and who decided on it (empty on rows from before these were recorded);
    # the audit log keeps every step. Whoever added a nonprofit does not verify it.
    created_by = person_field(_("added by"), on_delete=models.SET_NULL)
    verified_by = person_field(_("verified by"))
    # Set by each verification: it holds VERIFICATION_VALID_DAYS from then (see
    # `verification_expires_at`), after which the nonprofit is verified again before it is paid.
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rejected_by = person_field(_("rejected by"))
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    # Bank details live with the payout provider; we hold only its opaque reference to them.
    payout_reference = models.CharField(
        _("payout reference"),
        max_length=100,
        blank=True,
        help_text=_(
            "The payout provider's reference for this nonprofit's bank details. With the "
            "sandbox provider, sandbox-fail, sandbox-timeout, sandbox-flaky or "
            "sandbox-lose-response choose what its payments do."
        ),
    )

    # Its Stripe connected account, created by hosted onboarding (never typed by hand), and
    # what Stripe last told us of it: whether it can be paid out, and what Stripe still needs.
    stripe_account_id = models.CharField(
        _("Stripe account"), max_length=64, blank=True, editable=False
    )
    stripe_payouts_enabled = models.BooleanField(
        _("Stripe payouts enabled"), default=False, editable=False
    )
    stripe_requirements_due = models.JSONField(
        _("Stripe still needs"), default=list, blank=True, editable=False
    )
    stripe_checked_at = models.DateTimeField(
        _("Stripe status checked at"), null=True, blank=True, editable=False
    )
    # When the latest payout Stripe reported paid to the nonprofit's bank was created: a
    # failure reported late, about an older payout, is already behind it (see PayoutFailure).
    stripe_payout_paid_at = models.DateTimeField(
        _("Stripe payout last paid"), null=True, blank=True, editable=False
    )

    objects = NonprofitQuerySet.as_manager()

    class Meta:
        verbose_name = _("nonprofit")
        verbose_name_plural = _("nonprofits")
        ordering = ["legal_name"]
        permissions = [("verify_nonprofit", _("Can verify or reject a nonprofit"))]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~Q(stripe_account_id=""),
                name="nonprofit_stripe_account_unique",
                violation_error_message=_("This Stripe account belongs to another nonprofit."),
            ),
            models.UniqueConstraint(
                fields=["registration_number", "country"],
                name="nonprofit_registration_unique",
                violation_error_message=_(
                    "A nonprofit with this registration number is already registered in this "
                    "country."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(verification_status="rejected") | ~Q(rejection_reason=""),
                name="nonprofit_rejection_has_reason",
                violation_error_message=_("Say why the nonprofit was rejected."),
            ),
            models.CheckConstraint(
                condition=Q(created_by__isnull=True)
                | Q(verified_by__isnull=True)
                | ~Q(verified_by=F("created_by")),
                name="nonprofit_verifier_not_creator",
                violation_error_message=_(
                    "A nonprofit is verified by someone other than who added it."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def verification_expires_at(self) -> datetime.datetime | None:
        if self.verification_status != self.Verification.VERIFIED or self.verified_at is None:
            return None
        return self.verified_at + datetime.timedelta(days=settings.VERIFICATION_VALID_DAYS)

    def verification_current(self, now: datetime.datetime | None = None) -> bool:
        """Verified, and the verification not expired at `now`: what paying it needs."""
        expires_at = self.verification_expires_at
        return expires_at is not None and (now or timezone.now()) < expires_at

    @property
    def verification_expired(self) -> bool:
        return self.verification_expires_at is not None and not self.verification_current()

    @property
    def payout_masked(self) -> str:
        return mask_reference(self.payout_reference)

    def payout_fingerprint(self) -> str:
        """A SHA-256 (hex) of what says where this nonprofit's money goes: the payout
        reference (the provider's handle on the bank account) and the account holder's
        identity as a bank sees it, legal name, registration number and country. A grant pins
        it when approved; a payment is made only while the nonprofit's still matches."""
        payee = [
            "payee-v1",
            self.payout_reference.strip(),
            self.legal_name.strip(),
            self.registration_number.strip(),
            str(self.country),
        ]
        return hashlib.sha256(json.dumps(payee).encode()).hexdigest()


class NonprofitContact(TimeStampedModel):
    """A person who signs in for a nonprofit and sees only that nonprofit's grants."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nonprofit_contact"
    )
    nonprofit = models.ForeignKey(
        Nonprofit, verbose_name=_("nonprofit"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("email language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("The language of the emails the program sends you."),
    )

    class Meta:
        verbose_name = _("nonprofit contact")
        verbose_name_plural = _("nonprofit contacts")

    def __str__(self) -> str:
        return f"{self.user} ({self.nonprofit})"

    def clean(self) -> None:
        # What a user sees follows their first role (staff, then creator): a creator's or a
        # staff member's account would sign in by link and be refused the nonprofit pages.
        if self.user_id and (self.user.is_staff or creator_of(self.user) is not None):
            raise ValidationError(
                {
                    "user": _(
                        "This account belongs to a creator or to staff; a nonprofit contact "
                        "needs an account of its own."
                    )
                },
                code="account_has_role",
            )


def nonprofit_contact_of(user) -> "NonprofitContact | None":
    """The NonprofitContact this user is, or None."""
    return linked(user, "nonprofit_contact")


class NonprofitSignInLink(SingleUseLink):
    """A single-use, expiring, revocable link that signs a nonprofit contact in.

    As with creator invitations, the link carries an HMAC of the row's random nonce under the
    site's secret key (`changemakers.core.links.link_token`): the database holds only the nonce,
    which opens nothing without the key, and the emailing task can rebuild the link from the
    row without the secret ever passing through the broker.
    """

    contact = models.ForeignKey(
        NonprofitContact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="sign_in_links",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the contact asked for the link themselves."),
    )

    class Meta:
        verbose_name = _("nonprofit sign-in link")
        verbose_name_plural = _("nonprofit sign-in links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("Sign-in link for %(contact)s") % {"contact": self.contact}


CONTACT_EMAIL_WARNING = datetime.timedelta(days=30)


class PayoutDetailsChangeQuerySet(models.QuerySet):
    def pending(self) -> "PayoutDetailsChangeQuerySet":
        return self.filter(status=PayoutDetailsChange.Status.PENDING)

    def for_review(self) -> "PayoutDetailsChangeQuerySet":
        """With `contact_email_changed_at`: the latest change of the nonprofit's contact email
        from CONTACT_EMAIL_WARNING_DAYS before the request on. Staff check a request through
        a channel they trust, which that address is not if it has only just been changed."""
        email_changes = AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Nonprofit),
            object_id=OuterRef("nonprofit_id"),
            action=KernelVerb.UPDATED,
            note__contains="contact_email",
            occurred_at__gte=OuterRef("created_at") - CONTACT_EMAIL_WARNING,
        ).order_by("-occurred_at")
        return (
            self.select_related("nonprofit", "requested_by", "first_approved_by", "reviewed_by")
            .annotate(contact_email_changed_at=Subquery(email_changes.values("occurred_at")[:1]))
            .order_by("created_at", "pk")
        )


class PayoutDetailsChange(TimeStampedModel):
    """A nonprofit contact's request to pay the nonprofit elsewhere. It changes nothing until
    staff approve it: payout details are where a fraud would redirect the money."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    nonprofit = models.ForeignKey(
        Nonprofit,
        verbose_name=_("nonprofit"),
        on_delete=models.CASCADE,
        related_name="payout_changes",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    payout_reference = models.CharField(_("new payout reference"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The first of two approvals, when a change needs two (the nonprofit's contact email was
    # changed lately, see `for_review`): it stays pending until someone else approves it too.
    first_approved_by = person_field(_("first approved by"))
    first_approved_at = models.DateTimeField(_("first approved at"), null=True, blank=True)
    reviewed_by = person_field(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reason = models.TextField(_("reason for rejection"), blank=True)

    objects = PayoutDetailsChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout details change")
        verbose_name_plural = _("payout details changes")
        ordering = ["-created_at"]
        permissions = [
            ("approve_payoutdetailschange", _("Can approve or reject a change of payout details"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["nonprofit"],
                condition=Q(status="pending"),
                name="payout_change_one_pending",
                violation_error_message=_(
                    "A change of payout details is already waiting for review."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="payout_change_rejection_has_reason",
                violation_error_message=_("Say why the change is rejected."),
            ),
            # Separation of duties, held by the database as well as by the service (which
            # alone checks the approver against the requester: rows from before may not pass).
            models.CheckConstraint(
                condition=Q(first_approved_by__isnull=True)
                | (
                    ~Q(first_approved_by=F("requested_by"))
                    & (~Q(status="approved") | ~Q(first_approved_by=F("reviewed_by")))
                ),
                name="payout_change_two_distinct_approvers",
                violation_error_message=_(
                    "A payout details change's two approvers are two different people."
                ),
            ),
        ]

    def __str__(self) -> str:
        return _("Payout details change for %(nonprofit)s") % {"nonprofit": self.nonprofit}


def mask_reference(value: str) -> str:
    """Payout details as shown to the nonprofit and written to the audit log: the last four
    characters only ("••••1234")."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 4 else "••••"
