"""Nonprofits, funds, grants and the disbursements that pay them.

Money is a Decimal with explicit digits plus an ISO 4217 currency code, never a float.
A fund's `committed` and `disbursed` totals are kept by the grant services under a row lock
on the fund, and the database refuses any row where they pass the fund's total.
"""

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.models import AuditEvent, SingleUseLink, TimeStampedModel
from changemakers.core.roles import linked
from changemakers.core.verbs import KernelVerb
from creators.models import Creator, creator_of

MONEY_DIGITS = 14
MONEY_PLACES = 2

currency_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, such as USD.")
)


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs
    )


def currency_field() -> models.CharField:
    return models.CharField(
        _("currency"), max_length=3, default="USD", validators=[currency_validator]
    )


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `DonationsConfig.ready`)."""

    PROPOSED = "proposed", _("Proposed")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    ACCEPTED = "accepted", _("Accepted")
    CANCELLED = "cancelled", _("Cancelled")
    SCHEDULED = "scheduled", _("Scheduled for payment")
    PAYMENT_STARTED = "payment_started", _("Payment started")
    PAYMENT_ERROR = "payment_error", _("Payment attempt failed")
    DISBURSED = "disbursed", _("Paid")
    FAILED = "failed", _("Failed")
    RETRIED = "retried", _("Retried")
    RECONCILED = "reconciled", _("Reconciled with the provider")
    LINK_SENT = "link_sent", _("Sign-in link sent")
    LINK_REVOKED = "link_revoked", _("Sign-in links revoked")
    RECEIPT_CONFIRMED = "receipt_confirmed", _("Receipt confirmed")
    CHANGE_REQUESTED = "change_requested", _("Change requested")


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

    objects = NonprofitQuerySet.as_manager()

    class Meta:
        verbose_name = _("nonprofit")
        verbose_name_plural = _("nonprofits")
        ordering = ["legal_name"]
        constraints = [
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
        ]

    def __str__(self) -> str:
        return self.legal_name


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
    site's secret key (`creators.services.link_token`): the database holds only the nonce,
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


class Fund(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120, unique=True)
    currency = currency_field()
    total = money_field(_("total"))
    committed = money_field(
        _("committed"),
        default=Decimal("0.00"),
        help_text=_("Approved grants not cancelled or failed, paid ones included."),
    )
    disbursed = money_field(_("disbursed"), default=Decimal("0.00"))

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gt=0),
                name="fund_total_positive",
                violation_error_message=_("A fund's total must be more than zero."),
            ),
            # The database-level budget guard: whatever the code does, no row may overspend.
            models.CheckConstraint(
                condition=Q(committed__gte=0) & Q(committed__lte=F("total")),
                name="fund_committed_within_total",
                violation_error_message=_("This would commit more than the fund holds."),
            ),
            models.CheckConstraint(
                condition=Q(disbursed__gte=0) & Q(disbursed__lte=F("committed")),
                name="fund_disbursed_within_committed",
                violation_error_message=_("A fund cannot pay out more than it has committed."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def remaining(self) -> Decimal:
        return self.total - self.committed


class GrantQuerySet(models.QuerySet):
    def for_nonprofit(self, nonprofit: Nonprofit) -> "GrantQuerySet":
        return self.filter(nonprofit=nonprofit)

    def for_nonprofit_pages(self, nonprofit: Nonprofit) -> "GrantQuerySet":
        """The nonprofit's own grants with what its pages show, newest first."""
        return (
            self.for_nonprofit(nonprofit)
            .select_related("fund", "creator", "nonprofit", "disbursement")
            .order_by("-created_at", "-pk")
        )

    def committing(self) -> "GrantQuerySet":
        """Grants whose amount is held against their fund."""
        return self.filter(status__in=Grant.COMMITTING_STATUSES)

    def awaiting_disbursement(self) -> "GrantQuerySet":
        """Approved grants, ready to be scheduled for payment."""
        return self.filter(status=Grant.Status.APPROVED)

    def with_related(self) -> "GrantQuerySet":
        return self.select_related("fund", "nonprofit", "creator")

    def search(self, text: str) -> "GrantQuerySet":
        """Grants whose nonprofit, creator or purpose matches `text` (case-insensitive)."""
        text = text.strip().lstrip("@")
        if not text:
            return self
        return self.filter(
            Q(nonprofit__legal_name__icontains=text)
            | Q(creator__display_name__icontains=text)
            | Q(creator__handle__icontains=text)
            | Q(purpose__icontains=text)
        )


class Grant(TimeStampedModel):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PROCESSING = "processing", _("Processing")
        DISBURSED = "disbursed", _("Disbursed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    COMMITTING_STATUSES = ("approved", "scheduled", "processing", "disbursed")

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="grants"
    )
    nonprofit = models.ForeignKey(
        Nonprofit, verbose_name=_("nonprofit"), on_delete=models.PROTECT, related_name="grants"
    )
    creator = models.ForeignKey(
        Creator,
        verbose_name=_("in the name of"),
        on_delete=models.PROTECT,
        related_name="grants",
        null=True,
        blank=True,
        help_text=_("The creator in whose name it is given; empty for a program grant."),
    )
    amount = money_field(_("amount"))
    currency = currency_field()
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED
    )
    status_reason = models.TextField(_("reason"), blank=True)
    # One key for the life of the grant: every payout attempt sends it, so a provider that has
    # already paid recognises the request and never pays twice.
    idempotency_key = models.UUIDField(
        _("idempotency key"), default=uuid.uuid4, unique=True, editable=False
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    disbursed_at = models.DateTimeField(_("disbursed at"), null=True, blank=True)
    # The nonprofit's word that the money arrived (see `grant_receipt_confirm`).
    receipt_confirmed_at = models.DateTimeField(_("receipt confirmed at"), null=True, blank=True)
    receipt_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("receipt confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="grant_amount_positive",
                violation_error_message=_("A grant's amount must be more than zero."),
            ),
            # A creator's donation is one grant: a failed one stays theirs (it can be retried);
            # only a cancelled one frees the way for a new nomination.
            models.UniqueConstraint(
                fields=["fund", "creator"],
                condition=Q(creator__isnull=False) & ~Q(status="cancelled"),
                name="grant_one_donation_per_creator",
                violation_error_message=_(
                    "This creator already has a donation from this fund; cancel it first."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(receipt_confirmed_at__isnull=True, receipt_confirmed_by__isnull=True)
                    | Q(status="disbursed", receipt_confirmed_at__isnull=False)
                ),
                name="grant_receipt_only_when_disbursed",
                violation_error_message=_("Only a paid grant can be confirmed as received."),
            ),
        ]
        indexes = [models.Index(fields=["status", "fund"])]

    def __str__(self) -> str:
        name = f" in the name of {self.creator.display_name}" if self.creator_id else ""
        return f"{self.currency} {self.amount:,} to {self.nonprofit}{name}"

    def clean(self) -> None:
        if self.fund_id and self.currency != self.fund.currency:
            raise ValidationError(
                {
                    "currency": _("A grant is in its fund's currency (%(currency)s).")
                    % {"currency": self.fund.currency}
                },
                code="currency_mismatch",
            )


class DisbursementBatch(TimeStampedModel):
    """Approved grants that a staff member sent to be paid together; its page shows progress."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scheduled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    size = models.PositiveIntegerField(_("grants"), default=0)

    class Meta:
        verbose_name = _("disbursement batch")
        verbose_name_plural = _("disbursement batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("Batch %(number)s") % {"number": self.pk}


class DisbursementQuerySet(models.QuerySet):
    def stale(self, *, older_than) -> "DisbursementQuerySet":
        """Work the database says is unfinished but no worker has touched for a while: a
        pending one whose task was lost (a broker restart empties the queue), or a processing
        one whose worker died between paying and recording."""
        return self.filter(
            Q(status=Disbursement.Status.PENDING, queued_at__lt=older_than)
            | Q(status=Disbursement.Status.PROCESSING, started_at__lt=older_than)
        )


class Disbursement(TimeStampedModel):
    """The payment of one grant through a payout provider, and the database's record of it.

    One per grant, created when the grant is scheduled. It sends the grant's idempotency key to
    the provider on every attempt, so a payment the provider has already made is found, never
    made twice. All writes to it happen under the lock of its grant's row.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    UNFINISHED_STATUSES = ("pending", "processing")

    grant = models.OneToOneField(
        Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="disbursement"
    )
    batch = models.ForeignKey(
        DisbursementBatch,
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        related_name="disbursements",
        null=True,
        blank=True,
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    provider = models.CharField(_("provider"), max_length=50)
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    amount = money_field(_("amount"))
    currency = currency_field()
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # A payment given up on after timeouts may still go through at the provider a little later:
    # the sweeper asks once more at this time, and records it if it did.
    recheck_at = models.DateTimeField(_("check again at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disbursement_amount_positive",
                violation_error_message=_("A disbursement's amount must be more than zero."),
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(provider_reference=""),
                name="disbursement_success_has_reference",
                violation_error_message=_("A paid disbursement carries the provider's reference."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "started_at"]),
            models.Index(fields=["status", "queued_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.idempotency_key} ({self.get_status_display()})"


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
            self.select_related("nonprofit", "requested_by", "reviewed_by")
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
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reason = models.TextField(_("reason for rejection"), blank=True)

    objects = PayoutDetailsChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout details change")
        verbose_name_plural = _("payout details changes")
        ordering = ["-created_at"]
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
        ]

    def __str__(self) -> str:
        return _("Payout details change for %(nonprofit)s") % {"nonprofit": self.nonprofit}


def mask_reference(value: str) -> str:
    """Payout details as shown to the nonprofit: the last four characters only."""
    if not value:
        return ""
    return "•••• " + value[-4:] if len(value) > 4 else "••••"


class SandboxPayment(models.Model):
    """The sandbox payout provider's own ledger, standing in for a provider's remote records.

    Only `donations.payouts.sandbox` writes here, one row per idempotency key, outside the
    app's transactions as a remote provider would: a payment recorded here stays made even if
    the worker that asked for it dies before recording the answer.
    """

    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    payee = models.CharField(_("payee"), max_length=100, blank=True)
    amount = money_field(_("amount"))
    currency = currency_field()
    description = models.CharField(_("description"), max_length=200, blank=True)
    requests = models.PositiveIntegerField(_("requests"), default=0)
    created_at = models.DateTimeField(_("first asked at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox payment")
        verbose_name_plural = _("sandbox payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="sandbox_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | ~Q(reference=""),
                name="sandbox_paid_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or self.idempotency_key} {self.currency} {self.amount}"
