"""Funds and the grants given from them.

A fund's `committed` and `disbursed` totals are kept by the grant services under a row lock
on the fund, and the database refuses any row where they pass the fund's total, unless the
excess is recorded as `overspent`: a payment the provider made that was found after its money
had gone back to the fund (see `fund_book_late`). No decision can overspend a fund: the
database accepts `committed` past the total only when `overspent` is exactly that excess, and
only the booking of a payment already made writes `overspent`."""

import hashlib
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel, choice_display, person_field
from creators.models import Creator

from .money import CurrencyAmounts, currency_field, money_field
from .nonprofits import Nonprofit, mask_reference


class Fund(CurrencyAmounts, TimeStampedModel):
    name = models.CharField(_("name"), max_length=120, unique=True)
    currency = currency_field()
    total = money_field(_("total"))
    committed = money_field(
        _("committed"),
        default=Decimal("0.00"),
        help_text=_("Approved grants not cancelled or failed, paid ones included."),
    )
    disbursed = money_field(_("disbursed"), default=Decimal("0.00"))
    overspent = money_field(
        _("overspent"),
        default=Decimal("0.00"),
        help_text=_(
            "Committed past the total by a payment the provider made after it was given up "
            "on; staff resolve it by raising the total."
        ),
    )

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
            # The database-level budget guard: whatever the code does, no row may overspend,
            # except by a payment found made late, and then exactly by the amount recorded
            # as overspent. An approval adds to `committed` alone, so it can never pass the
            # total, whether or not the fund is overspent already.
            models.CheckConstraint(
                condition=Q(committed__gte=0)
                & (
                    Q(overspent=0, committed__lte=F("total"))
                    | Q(overspent__gt=0, committed=F("total") + F("overspent"))
                ),
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
        return max(self.total - self.committed, Decimal("0.00"))


class GrantQuerySet(models.QuerySet):
    def for_nonprofit(self, nonprofit: Nonprofit) -> "GrantQuerySet":
        return self.filter(nonprofit=nonprofit)

    def for_nonprofit_pages(self, nonprofit: Nonprofit) -> "GrantQuerySet":
        """The nonprofit's own grants with what its pages show, newest first."""
        return self.for_nonprofit_list(nonprofit).select_related("nonprofit", "disbursement")

    def for_nonprofit_list(self, nonprofit: Nonprofit) -> "GrantQuerySet":
        """The nonprofit's own grants with what its list of them shows (fund and creator),
        newest first: not the nonprofit again, whose payout details are decrypted on read."""
        return (
            self.for_nonprofit(nonprofit)
            .select_related("fund", "creator")
            .order_by("-created_at", "-pk")
        )

    def committing(self) -> "GrantQuerySet":
        """Grants whose amount is held against their fund."""
        return self.filter(status__in=Grant.COMMITTING_STATUSES)

    def reversal_open(self) -> "GrantQuerySet":
        """Paid grants whose money the provider took back, all or part, that finance has not
        closed yet."""
        return self.filter(status=Grant.Status.REVERSED)

    def paid_out(self) -> "GrantQuerySet":
        """Grants whose money reached the nonprofit and stayed there, at least in part: paid
        (or reversed in part since), never one the provider took back in full."""
        return self.filter(
            status__in=(Grant.Status.DISBURSED, Grant.Status.REVERSED),
            disbursement__amount__gt=F("disbursement__reversed_amount"),
        )

    def outcome_unknown(self) -> "GrantQuerySet":
        """Grants whose payment may or may not have been made: the provider has not said."""
        return self.filter(status=Grant.Status.UNKNOWN)

    def awaiting_disbursement(self) -> "GrantQuerySet":
        """Approved grants, ready to be scheduled for payment (those on hold wait)."""
        return self.filter(status=Grant.Status.APPROVED, held_at__isnull=True)

    def unpaid(self) -> "GrantQuerySet":
        """Grants on their way to being paid, or failed on the way: what a hold stops."""
        return self.filter(status__in=Grant.UNPAID_STATUSES)

    def held(self) -> "GrantQuerySet":
        """Grants on hold: unpaid ones waiting for a finance approver to re-confirm the payee,
        and unknown outcomes waiting for staff to settle them."""
        return self.filter(Grant.held_q())

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


class Grant(CurrencyAmounts, TimeStampedModel):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PROCESSING = "processing", _("Processing")
        DISBURSED = "disbursed", _("Disbursed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        # Given up on after timeouts, and the provider has not yet said whether it paid: its
        # amount stays committed until it does (see `disbursement_recheck`).
        UNKNOWN = "unknown", _("Outcome unknown")
        # Paid, then the provider took the money back, all or part (a transfer reversal):
        # its amount stays committed until finance closes the reversal
        # (`grant_reversal_close`), which gives the reversed money back to the fund.
        REVERSED = "reversed", _("Reversed")

    COMMITTING_STATUSES = (
        "approved",
        "scheduled",
        "processing",
        "disbursed",
        "unknown",
        "reversed",
    )
    # What a hold stops. An unknown outcome is not among them: nothing is sent for it any
    # more, its provider is only asked what became of the payment.
    UNPAID_STATUSES = ("approved", "scheduled", "processing", "failed")
    # A hold also marks an unknown outcome whose provider answered with another amount or
    # currency: staff settle it (`disbursement_outcome_record`).
    HOLDABLE_STATUSES = (*UNPAID_STATUSES, "unknown")

    @staticmethod
    def held_q(statuses: tuple[str, ...] = HOLDABLE_STATUSES) -> Q:
        """On hold (`is_held`), as a filter: what the held list shows and its tab counts;
        `statuses` narrows it (UNPAID_STATUSES: those whose payee is to be re-confirmed)."""
        return Q(held_at__isnull=False, status__in=statuses)

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
    # Who decided, on the row itself (the audit log has every step too). Empty on grants
    # from before these were recorded. The approver is never the proposer; a grant above
    # SECOND_APPROVAL_ABOVE has two approvers, the first recorded while it stays proposed.
    proposed_by = person_field(_("proposed by"))
    first_approved_by = person_field(_("first approved by"))
    first_approved_at = models.DateTimeField(_("first approved at"), null=True, blank=True)
    approved_by = person_field(_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # The payee pinned when the grant is approved (and re-confirmed after a hold): the
    # nonprofit's payout reference then, and the fingerprint of its payout details
    # (`Nonprofit.payout_fingerprint`). Scheduling copies both to the disbursement; the worker
    # pays that reference only, and only while the nonprofit's fingerprint still matches.
    payee_reference = models.CharField(_("payee reference"), max_length=100, blank=True)
    payee_fingerprint = models.CharField(_("payee fingerprint"), max_length=64, blank=True)
    # A held grant is not paid, scheduled or retried until a finance approver re-confirms its
    # payee (`grant_hold_release`); its amount stays committed meanwhile.
    held_at = models.DateTimeField(_("on hold since"), null=True, blank=True)
    hold_reason = models.TextField(_("reason for the hold"), blank=True)
    disbursed_at = models.DateTimeField(_("disbursed at"), null=True, blank=True)
    # The nonprofit's word that the money arrived (see `grant_receipt_confirm`).
    receipt_confirmed_at = models.DateTimeField(_("receipt confirmed at"), null=True, blank=True)
    receipt_confirmed_by = person_field(_("receipt confirmed by"))

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
                # A receipt confirmed before the provider reversed the payment stays on record.
                condition=(
                    Q(receipt_confirmed_at__isnull=True, receipt_confirmed_by__isnull=True)
                    | Q(
                        status__in=("disbursed", "reversed", "cancelled"),
                        receipt_confirmed_at__isnull=False,
                    )
                ),
                name="grant_receipt_only_when_disbursed",
                violation_error_message=_("Only a paid grant can be confirmed as received."),
            ),
            # Separation of duties, held by the database as well as by the services.
            models.CheckConstraint(
                condition=Q(proposed_by__isnull=True)
                | Q(approved_by__isnull=True)
                | ~Q(approved_by=F("proposed_by")),
                name="grant_approver_not_proposer",
                violation_error_message=_(
                    "A grant is approved by someone other than its proposer."
                ),
            ),
            models.CheckConstraint(
                condition=Q(first_approved_by__isnull=True)
                | (
                    (Q(proposed_by__isnull=True) | ~Q(first_approved_by=F("proposed_by")))
                    & (Q(approved_by__isnull=True) | ~Q(first_approved_by=F("approved_by")))
                ),
                name="grant_two_distinct_approvers",
                violation_error_message=_(
                    "A grant's two approvers are two different people, neither its proposer."
                ),
            ),
            models.CheckConstraint(
                condition=Q(held_at__isnull=True, hold_reason="")
                | (Q(held_at__isnull=False) & ~Q(hold_reason="")),
                name="grant_hold_has_reason",
                violation_error_message=_("Say why the grant is held."),
            ),
        ]
        indexes = [models.Index(fields=["status", "fund"])]

    def __str__(self) -> str:
        name = f" in the name of {self.creator.display_name}" if self.creator_id else ""
        return f"{self.currency} {self.amount:,} to {self.nonprofit}{name}"

    get_status_display = choice_display("status", Status)

    @property
    def is_held(self) -> bool:
        return self.held_at is not None and self.status in self.HOLDABLE_STATUSES

    @property
    def payee_masked(self) -> str:
        return payee_masked(self.payee_reference)

    def clean(self) -> None:
        if self.fund_id and self.currency != self.fund.currency:
            raise ValidationError(
                {
                    "currency": _("A grant is in its fund's currency (%(currency)s).")
                    % {"currency": self.fund.currency}
                },
                code="currency_mismatch",
            )


def payee_masked(reference: str) -> str:
    """A pinned payee as staff see it before paying: enough to recognise the account, never
    the whole reference ("Stripe account acct_…1234", "bank account ending ••1234")."""
    reference = reference.strip()
    if not reference:
        return _("no payee pinned")
    if reference.startswith("bank:"):
        return _("bank account ending %(last)s") % {"last": "••" + reference[-4:]}
    if reference.startswith("acct_"):
        return _("Stripe account %(account)s") % {"account": "acct_…" + reference[-4:]}
    return mask_reference(reference)


def grants_digest(grants: Iterable[Grant]) -> str:
    """A fingerprint of exactly what someone reviewed before paying: each grant's id, amount,
    currency and pinned payee. Scheduling with it (`grants_schedule(expected=...)`) refuses
    when the grants no longer match: one cancelled or paid meanwhile, an amount or a payee
    changed."""
    lines = sorted(
        (
            grant.pk,
            format(Decimal(grant.amount).normalize(), "f"),
            grant.currency,
            grant.payee_reference,
            grant.payee_fingerprint,
        )
        for grant in grants
    )
    return hashlib.sha256(json.dumps(lines).encode()).hexdigest()
