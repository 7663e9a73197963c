"""Funds and the money they hold: amounts in whole units of their currency (cents, yen, fils),
and committing and releasing a grant's amount against its fund under the fund's row lock. The
fund's CHECK constraint refuses any overspend the code might still let through; the one
overspend it accepts is a payment the provider made that is found late (`fund_book_late`),
recorded as such for staff to resolve."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.roles import permission_require

from ..models import Fund, Grant
from ..models.money import quantize

ZERO = Decimal("0.00")


def money_amount(amount, currency: str, *, field: str = "amount") -> Decimal:
    """A Decimal amount with its currency's decimals (CLDR's: 0 for JPY, 3 for KWD); floats are
    refused, they cannot hold money exactly, and so is a fraction of the currency's smallest
    unit (1000.5 JPY, 0.001 USD), rather than silently rounded."""
    try:
        return quantize(amount, currency)
    except ValidationError as error:
        raise ValidationError({field: error}) from None


@transaction.atomic
def fund_create(*, name: str, total, currency: str = "USD", actor=None) -> Fund:
    permission_require(actor, "donations.add_fund", doing=_("create funds"))
    fund = Fund(name=name, total=money_amount(total, currency, field="total"), currency=currency)
    fund.full_clean()
    fund.save()
    audit_record(actor=actor, obj=fund, action="created", note=f"{fund.currency} {fund.total}")
    return fund


def fund_commit(grant: Grant) -> None:
    """Hold `grant.amount` against its fund. Call with the grant row locked."""
    # FOR NO KEY UPDATE: it serialises approvals without blocking grants being proposed on
    # the fund (their foreign key check takes a key-share lock on it).
    fund = Fund.objects.select_for_update(no_key=True).get(pk=grant.fund_id)
    exhausted = _exhausted(fund, grant)
    if fund.committed + grant.amount > fund.total:
        raise exhausted
    try:
        with transaction.atomic():
            Fund.objects.filter(pk=fund.pk).update(
                committed=F("committed") + grant.amount, updated_at=timezone.now()
            )
    except IntegrityError as error:  # the CHECK constraint: the last line of defence
        raise exhausted from error


def fund_room_check(grant: Grant) -> None:
    """Refuse if `grant.amount` does not fit in what its fund has left now. Holds nothing:
    only `fund_commit` reserves the money."""
    fund = Fund.objects.get(pk=grant.fund_id)
    if fund.committed + grant.amount > fund.total:
        raise _exhausted(fund, grant)


def _exhausted(fund: Fund, grant: Grant) -> ValidationError:
    return ValidationError(
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


def fund_release(grant: Grant, amount: Decimal | None = None) -> None:
    """Give `grant.amount` (or `amount` of it) back to its fund. Call with the grant row locked.

    An overspent fund (see `fund_book_late`) gets back under its total first: what is released
    comes off the overspend before it makes room for new grants."""
    fund = Fund.objects.select_for_update(no_key=True).get(pk=grant.fund_id)
    committed = fund.committed - (grant.amount if amount is None else amount)
    Fund.objects.filter(pk=fund.pk).update(
        committed=committed,
        overspent=max(committed - fund.total, ZERO),
        updated_at=timezone.now(),
    )


def fund_unpay(grant: Grant, amount: Decimal) -> None:
    """Take `amount` of a paid grant off its fund's disbursed total: the provider took it
    back (a reversal). It stays committed to the grant until finance closes the reversal
    (`fund_release`), so no decision about it is made by the provider alone. Call with the
    grant row locked."""
    Fund.objects.select_for_update(no_key=True).filter(pk=grant.fund_id).get()
    Fund.objects.filter(pk=grant.fund_id).update(
        disbursed=F("disbursed") - amount, updated_at=timezone.now()
    )


def fund_book_late(grant: Grant) -> Decimal:
    """Commit `grant.amount` again for a payment the provider made after the grant had given its
    money back (found paid after it failed): the money has left, so it is booked even past the
    fund's total, and the excess is recorded as the fund's overspend, audited, for staff to
    resolve (`fund_overspend_resolve`). Returns the overspend it added. Call with the grant row
    locked."""
    fund = Fund.objects.select_for_update(no_key=True).get(pk=grant.fund_id)
    committed = fund.committed + grant.amount
    overspent = max(committed - fund.total, ZERO)
    Fund.objects.filter(pk=fund.pk).update(
        committed=committed, overspent=overspent, updated_at=timezone.now()
    )
    added = overspent - fund.overspent
    if added > 0:
        audit_record(
            actor=None,
            obj=fund,
            action="overspent",
            note=_(
                "%(grant)s was paid by the provider after its money had gone back to the fund; "
                "booking it takes the fund %(currency)s %(added)s past its total."
            )
            % {"grant": grant, "currency": fund.currency, "added": f"{added:,}"},
        )
    return added


def fund_overspend_resolve(*, fund: Fund, actor, note: str) -> Fund:
    """Resolve a fund's overspend: its total is raised by the overspent amount (the money has
    left already; the budget now says so), with the staff member's note on where it is covered
    from, audited. Idempotent: a fund not overspent is returned as it is."""
    if not note.strip():
        raise ValidationError(
            _("Say how the overspend is covered (where the money comes from)."),
            code="note_empty",
        )
    permission_require(actor, "donations.change_fund", doing=_("resolve a fund's overspend"))
    with transaction.atomic():
        locked = Fund.objects.select_for_update(no_key=True).get(pk=fund.pk)
        if locked.overspent <= 0:
            return locked
        before = locked.total
        locked.total += locked.overspent
        locked.overspent = ZERO
        locked.save(update_fields=["total", "overspent", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="overspend_resolved",
            note=_("Total raised from %(currency)s %(before)s to %(currency)s %(after)s: %(note)s")
            % {
                "currency": locked.currency,
                "before": f"{before:,}",
                "after": f"{locked.total:,}",
                "note": note.strip(),
            },
        )
        return locked
