"""Payment instructions: what finance pays by hand, by bank transfer, for a disbursement whose
provider is `bank_transfer`. Made when the grant is scheduled, with the payee's bank details
pinned (those the grant's approval confirmed); recorded as sent, once, with the bank's own
reference, by a finance approver who did not schedule it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.encryption import EncryptedCharField
from changemakers.core.models import TimeStampedModel, person_field

from .money import CurrencyAmounts, currency_field, money_field
from .nonprofits import mask_reference
from .payments import Disbursement


def reference_for(grant) -> str:
    """The reference the transfer quotes (its ISO 20022 EndToEndId, at most 35 characters):
    the grant's number and the start of its idempotency key, so it names one payment."""
    return f"CM-{grant.pk}-{str(grant.idempotency_key)[:8].upper()}"


class PaymentInstructionQuerySet(models.QuerySet):
    def for_batch(self, batch) -> "PaymentInstructionQuerySet":
        return (
            self.filter(disbursement__batch=batch)
            .select_related(
                "disbursement", "disbursement__grant__nonprofit", "disbursement__grant__creator"
            )
            .order_by("pk")
        )

    def awaiting(self) -> "PaymentInstructionQuerySet":
        """Not recorded as sent, and their payment not called off."""
        return self.filter(sent_at__isnull=True, disbursement__status=Disbursement.Status.PENDING)


class PaymentInstruction(CurrencyAmounts, TimeStampedModel):
    """One bank transfer for finance to make by hand: to whom (pinned), how much, and the
    reference to quote. Only the services write here."""

    disbursement = models.OneToOneField(
        Disbursement,
        verbose_name=_("disbursement"),
        on_delete=models.PROTECT,
        related_name="instruction",
    )
    reference = models.CharField(_("reference to quote"), max_length=35, unique=True)
    amount = money_field(_("amount"))
    currency = currency_field()
    # The payee, as the grant's approval pinned it (copied again when a hold is released).
    # Holder, account and BIC are encrypted at rest (changemakers/core/encryption.py).
    account_holder = EncryptedCharField(_("account holder"), max_length=140)
    account_number = EncryptedCharField(_("IBAN or account number"), max_length=34)
    bic = EncryptedCharField(_("BIC (SWIFT code)"), max_length=11, blank=True)
    bank_name = models.CharField(_("name of the bank"), max_length=140, blank=True)
    bank_country = CountryField(_("country of the bank"))
    payee_fingerprint = models.CharField(_("payee fingerprint"), max_length=64)
    remittance = models.CharField(_("remittance information"), max_length=140)
    # Who scheduled (or retried) the payment: never the one who records it as sent.
    created_by = person_field(_("made by"))
    sent_at = models.DateTimeField(_("recorded as sent at"), null=True, blank=True)
    sent_by = person_field(_("recorded as sent by"))
    bank_reference = models.CharField(_("bank's reference"), max_length=100, blank=True)

    objects = PaymentInstructionQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment instruction")
        verbose_name_plural = _("payment instructions")
        ordering = ["pk"]
        permissions = [
            ("record_transfer", _("Can record a bank transfer as sent")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="instruction_amount_positive",
                violation_error_message=_("A payment instruction's amount is more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True, bank_reference="")
                | (Q(sent_at__isnull=False) & ~Q(bank_reference="")),
                name="instruction_sent_has_bank_reference",
                violation_error_message=_(
                    "A transfer recorded as sent carries the bank's reference."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.currency} {self.amount}"

    @property
    def account_masked(self) -> str:
        return mask_reference(self.account_number)
