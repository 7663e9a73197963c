"""Funds and the grants given from them.

A fund's `committed` and `disbursed` totals are kept by the grant services under a row lock
on the fund, and the database refuses any row where they pass the fund's total."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel
from creators.models import Creator

from .money import currency_field, money_field
from .nonprofits import Nonprofit


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
        # Proposing is `add_grant`; each decision about the money is a permission of its own.
        permissions = [
            ("approve_grant", _("Can approve a grant (commits its amount)")),
            ("schedule_grant", _("Can schedule and retry a grant's payment")),
            ("cancel_grant", _("Can cancel a grant")),
        ]
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
