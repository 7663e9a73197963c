"""Disbursements, the payment of a grant through a payout provider, in the batches staff
schedule them in; and the sandbox provider's own ledger."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel, person_field

from .grants import Grant
from .money import CurrencyAmounts, currency_field, money_field


class DisbursementBatch(TimeStampedModel):
    """Approved grants that a staff member sent to be paid together; its page shows progress."""

    created_by = person_field(_("scheduled by"))
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
        one whose worker died between paying and recording. Not a held grant's: it waits for
        its payee to be re-confirmed, which queues it again."""
        return self.filter(
            Q(status=Disbursement.Status.PENDING, queued_at__lt=older_than)
            | Q(status=Disbursement.Status.PROCESSING, started_at__lt=older_than),
            grant__held_at__isnull=True,
        )

    def recheck_due(self, *, now) -> "DisbursementQuerySet":
        """Payments whose outcome is unknown (and, from before that state existed, ones failed
        after timeouts) that the provider is due to be asked about again."""
        return self.filter(
            status__in=(Disbursement.Status.UNKNOWN, Disbursement.Status.FAILED),
            recheck_at__lte=now,
        )

    def unknown_flagged(self) -> "DisbursementQuerySet":
        """Payments whose outcome is unknown and no longer asked about automatically: past the
        horizon (PAYOUT_UNKNOWN_HORIZON) or reported by the provider with another amount.
        Staff find out from the provider and record its answer."""
        return self.filter(status=Disbursement.Status.UNKNOWN, recheck_at__isnull=True)


class Disbursement(CurrencyAmounts, TimeStampedModel):
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
        UNKNOWN = "unknown", _("Outcome unknown")

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
    # The grant's pinned payee, copied when it is scheduled (or retried): the only reference
    # this payment is ever sent to.
    payee_reference = models.CharField(_("payee reference"), max_length=100, blank=True)
    payee_fingerprint = models.CharField(_("payee fingerprint"), max_length=64, blank=True)
    amount = money_field(_("amount"))
    currency = currency_field()
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # A payment given up on after timeouts may still go through at the provider later: its
    # outcome is unknown and the sweeper asks again at this time, backing off, until the
    # provider answers or the horizon passes (then empty: flagged for staff).
    recheck_at = models.DateTimeField(_("check again at"), null=True, blank=True)
    unknown_since = models.DateTimeField(_("outcome unknown since"), null=True, blank=True)
    rechecks = models.PositiveSmallIntegerField(_("rechecks"), default=0)
    not_found = models.PositiveSmallIntegerField(
        _("lookups finding no payment"),
        default=0,
        help_text=_("Rechecks in a row in which the provider found no payment under the key."),
    )
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


class SandboxPayment(CurrencyAmounts, models.Model):
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
