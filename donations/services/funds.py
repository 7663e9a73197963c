"""Funds and the money they hold: amounts in whole cents, and committing and releasing a grant's
amount against its fund under the fund's row lock. The fund's CHECK constraint refuses any
overspend the code might still let through."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.roles import permission_require

from ..models import MONEY_PLACES, Fund, Grant

CENT = Decimal(1).scaleb(-MONEY_PLACES)


def money_amount(amount) -> Decimal:
    """A Decimal amount in cents; floats are refused, they cannot hold money exactly, and so
    is a fraction of a cent, rather than silently rounded."""
    if isinstance(amount, float):
        raise TypeError("Money is never a float: pass a Decimal or a string.")
    value = Decimal(amount)
    if not value.is_finite() or value != value.quantize(CENT):
        raise ValidationError(
            {"amount": _("Give the amount in whole cents, such as 25000.00.")},
            code="amount_precision",
        )
    return value.quantize(CENT)


@transaction.atomic
def fund_create(*, name: str, total, currency: str = "USD", actor=None) -> Fund:
    permission_require(actor, "donations.add_fund", doing=_("create funds"))
    fund = Fund(name=name, total=money_amount(total), currency=currency)
    fund.full_clean()
    fund.save()
    audit_record(actor=actor, obj=fund, action="created", note=f"{fund.currency} {fund.total}")
    return fund


def fund_commit(grant: Grant) -> None:
    """Hold `grant.amount` against its fund. Call with the grant row locked."""
    # FOR NO KEY UPDATE: it serialises approvals without blocking grants being proposed on
    # the fund (their foreign key check takes a key-share lock on it).
    fund = Fund.objects.select_for_update(no_key=True).get(pk=grant.fund_id)
    exhausted = ValidationError(
        _(
            "Not enough left in %(fund)s: %(currency)s %(remaining)s remaining, "
            "%(currency)s %(amount)s asked."
        )
        % {
            "fund": fund,
            "currency": fund.currency,
            "remaining": f"{fund.remaining:,}",
            "amount": f"{grant.amount:,}",
        },
        code="fund_exhausted",
    )
    if fund.committed + grant.amount > fund.total:
        raise exhausted
    try:
        with transaction.atomic():
            Fund.objects.filter(pk=fund.pk).update(
                committed=F("committed") + grant.amount, updated_at=timezone.now()
            )
    except IntegrityError as error:  # the CHECK constraint: the last line of defence
        raise exhausted from error


def fund_release(grant: Grant) -> None:
    """Give `grant.amount` back to its fund. Call with the grant row locked."""
    Fund.objects.filter(pk=grant.fund_id).update(
        committed=F("committed") - grant.amount, updated_at=timezone.now()
    )
