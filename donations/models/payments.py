"""Disbursements, the payment of a grant through a payout provider, in the batches staff
schedule them in; the payouts a nonprofit's bank refused; and the sandbox provider's own
ledger."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel, person_field

from .grants import Grant
from .money import MONEY_DIGITS, MONEY_PLACES, CurrencyAmounts, currency_field, money_field
from .nonprofits import Nonprofit


class DisbursementBatch(TimeStampedModel):
    """Approved grants that a staff member sent to be paid together; its page shows progress.

    A batch is held when the provider refuses a payment for a cause on the platform's side
    (its balance is short, its credentials refused): its payments not yet made wait, none
    of them sent to the provider, until a finance approver releases the hold
    (`batch_hold_release`), which queues them again under their same keys."""

    created_by = person_field(_("scheduled by"))
    size = models.PositiveIntegerField(_("grants"), default=0)
    held_at = models.DateTimeField(_("on hold since"), null=True, blank=True)
    hold_reason = models.TextField(_("reason for the hold"), blank=True)

    class Meta:
        verbose_name = _("disbursement batch")
        verbose_name_plural = _("disbursement batches")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(held_at__isnull=True, hold_reason="")
                | (Q(held_at__isnull=False) & ~Q(hold_reason="")),
                name="batch_hold_has_reason",
                violation_error_message=_("Say why the batch is held."),
            ),
        ]

    def __str__(self) -> str:
        return _("Batch %(number)s") % {"number": self.pk}

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


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
        ).exclude(batch__held_at__isnull=False)

    def received_missing(self, *, providers, completed_after, completed_before):
        """Payments made through a provider that reports what arrived (`providers`), between
        the two times, whose amount received is not recorded yet: its first lookup failed."""
        return self.filter(
            status__in=(Disbursement.Status.SUCCEEDED, Disbursement.Status.REVERSED),
            provider__in=providers,
            received_currency="",
            completed_at__gt=completed_after,
            completed_at__lt=completed_before,
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
        REVERSED = "reversed", _("Reversed")

    UNFINISHED_STATUSES = ("pending", "processing")
    # Paid: the provider made the payment (and may have reversed it since, in part or all).
    PAID_STATUSES = ("succeeded", "reversed")

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
    # What went wrong with the payment while that matters: cleared once it is paid (each
    # attempt's error stays in the grant's history).
    last_error = models.TextField(_("last error"), blank=True)
    # When the provider refused it for good (closed account, invalid payee...): the payee
    # fingerprint it refused. Trying the same payout details again fails the same way; the
    # nonprofit must update them first. Empty for any other outcome.
    refused_payee = models.CharField(_("payee refused for good"), max_length=64, blank=True)
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
    # What arrived on the payee's side, as the provider reports it once paid: in the payee's
    # own currency when it differs, with the rate the provider converted at (1 unit of
    # `currency` = `exchange_rate` units of `received_currency`). Empty until it is known.
    received_amount = models.DecimalField(
        _("amount received"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
    )
    received_currency = models.CharField(_("currency received"), max_length=3, blank=True)
    exchange_rate = models.DecimalField(
        _("exchange rate"), max_digits=24, decimal_places=12, null=True, blank=True
    )
    # The money the provider took back after paying (transfer reversals), in `currency`: the
    # total it reports, and how much of it finance has given back to the fund by closing the
    # reversal (`grant_reversal_close`); the rest stays committed to the grant meanwhile.
    reversed_amount = money_field(_("amount reversed"), default=0)
    reversal_released = money_field(_("reversal given back to the fund"), default=0)
    reversed_at = models.DateTimeField(_("last reversed at"), null=True, blank=True)

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
            models.CheckConstraint(
                condition=Q(reversal_released__gte=0)
                & Q(reversal_released__lte=F("reversed_amount"))
                & Q(reversed_amount__lte=F("amount")),
                name="disbursement_reversal_within_amount",
                violation_error_message=_(
                    "No more can be reversed than was paid, nor given back than was reversed."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "started_at"]),
            models.Index(fields=["status", "queued_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.idempotency_key} ({self.get_status_display()})"

    @property
    def refused_final(self) -> bool:
        """The provider refused the payment for good (a final error, not a timeout)."""
        return self.status == self.Status.FAILED and bool(self.refused_payee)

    @property
    def refused_payee_unchanged(self) -> bool:
        """Whether the grant's nonprofit still has the payout details the provider refused for
        good: a retry would likely fail the same way. Load it with `grant__nonprofit`."""
        return (
            self.refused_final and self.refused_payee == self.grant.nonprofit.payout_fingerprint()
        )

    @property
    def paid_net(self):
        """What the payee kept of the payment: the amount less what the provider reversed."""
        return self.amount - self.reversed_amount

    @property
    def reversal_open(self):
        """The reversed money not yet given back to the fund (still committed to the grant)."""
        return self.reversed_amount - self.reversal_released


class PayoutFailureQuerySet(models.QuerySet):
    def open(self) -> "PayoutFailureQuerySet":
        return self.filter(cleared_at__isnull=True)


class PayoutFailure(CurrencyAmounts, models.Model):
    """A payout from the nonprofit's provider account to its bank that the bank refused
    (Stripe's `payout.failed`), with the provider's reason. Open until a later payout to the
    bank goes through (`payout.paid`): the nonprofit fixes its bank account on the provider's
    pages meanwhile. One row per payout: a repeated event finds it."""

    nonprofit = models.ForeignKey(
        Nonprofit,
        verbose_name=_("nonprofit"),
        on_delete=models.CASCADE,
        related_name="payout_failures",
    )
    provider = models.CharField(_("provider"), max_length=32)
    payout_reference = models.CharField(_("payout"), max_length=255)
    amount = money_field(_("amount"))
    currency = currency_field()
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_message = models.TextField(_("failure message"), blank=True)
    # When the payout was created at the provider: a payout paid later than this one clears it.
    payout_created_at = models.DateTimeField(_("payout created at"))
    failed_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    objects = PayoutFailureQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout failure")
        verbose_name_plural = _("payout failures")
        ordering = ["-failed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "payout_reference"], name="payout_failure_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.payout_reference} ({self.failure_code or '?'})"

    @property
    def reason(self) -> str:
        """The provider's reason, as staff and the nonprofit read it."""
        if self.failure_message and self.failure_code:
            return f"{self.failure_message} ({self.failure_code})"
        return self.failure_message or self.failure_code


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
